// Scheduled jobs, decided by step() with the time passed in: the runtime reports each tick, and the core
// starts a run, or meets a run still going with the overlap policy.
import { describe, expect, it } from "vitest";
import type { Effect } from "../../../src/core/stack/effects.js";
import type { Input } from "../../../src/core/stack/inputs.js";
import { decideOverlap } from "../../../src/core/stack/schedule.js";
import { initialState, type StackState } from "../../../src/core/stack/state.js";
import { step } from "../../../src/core/stack/step.js";
import { instanceDoc } from "../../../src/core/stack/status.js";
import { manifestOf } from "../../support/fake-world.js";

const WALL = 1_700_000_000_000;
let nowMs = 0;
function run(state: StackState, ...inputs: Input[]): Effect[] {
  const all: Effect[] = [];
  for (const input of inputs) all.push(...step(state, input, { nowMs, wallMs: WALL + nowMs, random: () => 0.5 }).effects);
  return all;
}
const kinds = (effects: readonly Effect[]): string[] => effects.flatMap((e) => (e.type === "Publish" ? [e.event.kind] : []));
const spawns = (effects: readonly Effect[]): string[] => effects.flatMap((e) => (e.type === "Spawn" ? [e.id] : []));
const signals = (effects: readonly Effect[]): string[] => effects.flatMap((e) => (e.type === "Signal" ? [`${e.id} ${e.signal}`] : []));

function stack(schedule: string, restart = "{ policy: on-failure }"): StackState {
  nowMs = 0;
  const state = initialState(manifestOf(`
version: 1
services:
  api:
    command: api
  backup:
    command: backup
    restart: ${restart}
    schedule: ${schedule}
`), WALL);
  return state;
}

const tick = (nextInMs = 60_000): Input => ({ type: "ScheduleTicked", service: "backup", nextRunAtWallMs: WALL + nowMs + nextInMs });
const job = (state: StackState) => state.instances.get("backup#0")!;
const entry = (state: StackState) => state.services.get("backup")!;

function spawned(state: StackState, pid: number): void {
  run(state, { type: "ChildSpawned", id: "backup#0", incarnation: job(state).status.incarnation, pid, token: `t${pid}` });
}
function exited(state: StackState, code: number | null, signal: string | null = null): Effect[] {
  return run(state, { type: "ChildExited", id: "backup#0", incarnation: job(state).status.incarnation, code, signal });
}

describe("scheduled jobs", () => {
  it("are not started with the stack, and a tick starts a run", () => {
    const state = stack('{ cron: "* * * * *" }');
    const effects = run(state, { type: "Started", pid: 1 });
    expect(spawns(effects)).toEqual(["api#0"]);
    expect(job(state).status.state).toBe("stopped");
    nowMs = 60_000;
    expect(spawns(run(state, tick()))).toEqual(["backup#0"]);
    spawned(state, 500);
    expect(job(state).status.state).toBe("running");
    expect(entry(state).schedule.runs).toBe(1);
  });

  it("start with the stack when run_on_start is true", () => {
    const state = stack('{ cron: "* * * * *", run_on_start: true }');
    expect(spawns(run(state, { type: "Started", pid: 1 }))).toEqual(["api#0", "backup#0"]);
  });

  it("are not restarted between ticks after a run exits 0, even under policy always, and record the run", () => {
    const state = stack('{ cron: "* * * * *" }', "{ policy: always }");
    run(state, { type: "Started", pid: 1 });
    nowMs = 60_000;
    run(state, tick());
    spawned(state, 500);
    nowMs = 63_500;
    const effects = exited(state, 0);
    expect(spawns(effects)).toEqual([]);
    expect(effects.some((e) => e.type === "SetTimer" && e.key.kind === "backoff")).toBe(false);
    expect(job(state).status.state).toBe("exited");
    expect(entry(state).schedule.lastRun).toEqual({ code: 0, signal: null, durationMs: 3_500, endedAtWallMs: WALL + 63_500 });
    nowMs = 120_000;
    expect(spawns(run(state, tick()))).toEqual(["backup#0"]);
  });

  it("retry a failed run with backoff under on-failure, and a tick meanwhile meets the overlap policy", () => {
    const state = stack('{ cron: "* * * * *" }');
    run(state, { type: "Started", pid: 1 });
    nowMs = 60_000;
    run(state, tick());
    spawned(state, 500);
    const effects = exited(state, 3);
    expect(job(state).status.state).toBe("backoff");
    expect(kinds(effects)).toContain("restart-scheduled");
    nowMs = 120_000;
    expect(kinds(run(state, tick()))).toContain("schedule-skipped");
    expect(entry(state).schedule.skipped).toBe(1);
  });

  it("leave a failed run failed until the next tick under policy never", () => {
    const state = stack('{ cron: "* * * * *" }', "{ policy: never }");
    run(state, { type: "Started", pid: 1 });
    nowMs = 60_000;
    run(state, tick());
    spawned(state, 500);
    exited(state, 1);
    expect(job(state).status.state).toBe("exited");
    expect(entry(state).schedule.lastRun?.code).toBe(1);
    nowMs = 120_000;
    expect(spawns(run(state, tick()))).toEqual(["backup#0"]);
  });

  it("skip a tick while the run still goes, counting it (overlap skip)", () => {
    const state = stack('{ cron: "* * * * *", overlap: skip }');
    run(state, { type: "Started", pid: 1 });
    run(state, tick());
    spawned(state, 500);
    for (let i = 1; i <= 2; i++) {
      const effects = run(state, tick());
      expect(spawns(effects)).toEqual([]);
      expect(signals(effects)).toEqual([]);
      expect(kinds(effects)).toEqual(["schedule-skipped"]);
    }
    expect(entry(state).schedule.skipped).toBe(2);
    exited(state, 0);
    expect(job(state).status.state).toBe("exited");
  });

  it("queue at most one run behind the running one, started when it exits (overlap queue)", () => {
    const state = stack('{ cron: "* * * * *", overlap: queue }');
    run(state, { type: "Started", pid: 1 });
    run(state, tick());
    spawned(state, 500);
    expect(kinds(run(state, tick()))).toEqual(["schedule-overlap"]);
    expect(kinds(run(state, tick()))).toEqual(["schedule-skipped"]);
    expect(entry(state).schedule.skipped).toBe(1);
    const effects = exited(state, 0);
    expect(spawns(effects)).toEqual(["backup#0"]);
    spawned(state, 501);
    expect(spawns(exited(state, 0))).toEqual([]);
    expect(entry(state).schedule.runs).toBe(2);
  });

  it("stop the running one by its stop rules and start anew (overlap replace)", () => {
    const state = stack('{ cron: "* * * * *", overlap: replace }');
    run(state, { type: "Started", pid: 1 });
    run(state, tick());
    spawned(state, 500);
    const effects = run(state, tick());
    expect(signals(effects)).toEqual(["backup#0 SIGTERM"]);
    expect(effects).toContainEqual(expect.objectContaining({ type: "SetTimer", key: expect.objectContaining({ kind: "stop" }), delayMs: 10_000 }));
    expect(spawns(effects)).toEqual([]);
    const after = exited(state, null, "SIGTERM");
    expect(job(state).status.lastExit?.reason).toBe("schedule");
    expect(spawns(after)).toEqual(["backup#0"]);
    expect(entry(state).schedule.lastRun).toMatchObject({ code: null, signal: "SIGTERM" });
  });

  it("start nothing on a tick after a person stopped the job, until vigil start", () => {
    const state = stack('{ cron: "* * * * *", overlap: queue }');
    run(state, { type: "Started", pid: 1 });
    run(state, tick());
    spawned(state, 500);
    run(state, tick());
    run(state, { type: "ControlRequested", replyTo: 1, command: { cmd: "stop", names: ["backup"] } });
    expect(spawns(exited(state, null, "SIGTERM"))).toEqual([]);
    expect(spawns(run(state, tick()))).toEqual([]);
    expect(job(state).status.state).toBe("stopped");
    run(state, { type: "ControlRequested", replyTo: 2, command: { cmd: "start", names: ["backup"] } });
    spawned(state, 501);
    exited(state, 0);
    expect(spawns(run(state, tick()))).toEqual(["backup#0"]);
  });

  it("ignore ticks before the stack has started and while it shuts down", () => {
    const state = stack('{ cron: "* * * * *" }');
    expect(spawns(run(state, tick()))).toEqual([]);
    run(state, { type: "Started", pid: 1 }, { type: "ShutdownRequested", kill: false });
    expect(spawns(run(state, tick()))).toEqual([]);
  });

  it("show the next run, runs, skipped ticks and the last run in the status document", () => {
    const state = stack('{ cron: "* * * * *", timezone: Europe/Paris }');
    run(state, { type: "Started", pid: 1 }, { type: "ScheduleArmed", service: "backup", nextRunAtWallMs: WALL + 60_000 });
    const time = { ofMonotonic: (ms: number | null) => (ms === null ? null : new Date(WALL + ms).toISOString()), ofWall: (ms: number) => new Date(ms).toISOString() };
    expect(instanceDoc(state, job(state), nowMs, time).schedule).toEqual({
      cron: "* * * * *", timezone: "Europe/Paris", overlap: "skip", next_run_at: new Date(WALL + 60_000).toISOString(),
      runs: 0, skipped: 0, queued: false, held: false, last_run: null,
    });
    nowMs = 60_000;
    run(state, tick());
    spawned(state, 500);
    run(state, tick());
    nowMs = 61_000;
    exited(state, 0);
    expect(instanceDoc(state, job(state), nowMs, time).schedule).toMatchObject({
      runs: 1, skipped: 1, last_run: { code: 0, signal: null, duration_ms: 1_000, ended_at: new Date(WALL + 61_000).toISOString() },
    });
    expect(instanceDoc(state, state.instances.get("api#0")!, nowMs, time).schedule).toBeNull();
  });
});

describe("the overlap decision", () => {
  it("skips, queues once, or replaces", () => {
    expect(decideOverlap("skip", false)).toBe("skip");
    expect(decideOverlap("queue", false)).toBe("queue");
    expect(decideOverlap("queue", true)).toBe("skip");
    expect(decideOverlap("replace", true)).toBe("replace");
  });
});
