// A dead man's switch with the time passed in: late past its time, down past the grace, down at once on a
// reported failure, up again with the next ping; and the check in the stack, its timers and events.
import { describe, expect, it } from "vitest";
import { newPingState, nextCheckWallMs, pingChecked, pingReceived, pingSignalOf } from "../../src/core/ping.js";
import type { Effect } from "../../src/core/stack/effects.js";
import { pingTimer } from "../../src/core/stack/pings.js";
import { initialState, type StackState } from "../../src/core/stack/state.js";
import { manifestOf } from "../support/fake-world.js";
import { stepper } from "../support/steps.js";

const HOUR = 3_600_000;
const GRACE = 600_000;

describe("ping lateness", () => {
  it("is late once its time has passed and down once the grace has passed too", () => {
    const fresh = newPingState(HOUR);
    expect(nextCheckWallMs(fresh, GRACE)).toBe(HOUR);
    expect(pingChecked(fresh, HOUR - 1, GRACE).status).toBe("new");
    const late = pingChecked(fresh, HOUR, GRACE);
    expect(late.status).toBe("late");
    expect(nextCheckWallMs(late, GRACE)).toBe(HOUR + GRACE);
    const down = pingChecked(late, HOUR + GRACE, GRACE);
    expect(down).toMatchObject({ status: "down", failures: 1 });
    expect(nextCheckWallMs(down, GRACE)).toBeNull();
  });

  it("goes down at once on a failure, and up again with the next success, measuring the run from its start", () => {
    const failed = pingReceived(newPingState(HOUR), { kind: "fail" }, 10, 10 + HOUR);
    expect(failed).toMatchObject({ status: "down", failures: 1, lastPingWallMs: 10 });
    const started = pingReceived(failed, { kind: "start" }, 1_000, 0);
    expect(started).toMatchObject({ status: "down", startedWallMs: 1_000, dueWallMs: failed.dueWallMs });
    const ok = pingReceived(started, { kind: "exit", code: 0 }, 4_000, 4_000 + HOUR);
    expect(ok).toMatchObject({ status: "up", lastDurationMs: 3_000, lastExitCode: 0, startedWallMs: null, dueWallMs: 4_000 + HOUR });
    expect(pingReceived(ok, { kind: "exit", code: 3 }, 5_000, 0)).toMatchObject({ status: "down", lastExitCode: 3 });
  });

  it("reads the path of a ping: nothing, start, fail or an exit status 0-255", () => {
    expect(pingSignalOf(undefined)).toEqual({ kind: "success" });
    expect(pingSignalOf("start")).toEqual({ kind: "start" });
    expect(pingSignalOf("fail")).toEqual({ kind: "fail" });
    expect(pingSignalOf("7")).toEqual({ kind: "exit", code: 7 });
    expect(pingSignalOf("256")).toBeNull();
    expect(pingSignalOf("stop")).toBeNull();
  });
});

let nowMs = 0;
const run = stepper(() => nowMs, (now) => now);
const published = (effects: readonly Effect[]): string[] =>
  effects.flatMap((e) => (e.type === "Publish" && (e.event.kind === "ping" || e.event.kind === "health") ? [`${e.event.kind}:${"state" in e.event.fields ? String(e.event.fields.state) : String((e.event.fields as { health: string }).health)}`] : []));

function started(): StackState {
  nowMs = 0;
  const state = initialState(manifestOf(`
version: 1
services:
  api:
    command: api
  nightly:
    ping: { every: 1h, grace: 10m }
`), 0);
  run(state, { type: "Started", pid: 1 });
  return state;
}

describe("a ping check in the stack", () => {
  it("is not a service: nothing is spawned for it, and its first deadline is every from the start", () => {
    const state = started();
    expect(state.services.has("nightly")).toBe(false);
    expect(state.pings.get("nightly")?.state).toMatchObject({ status: "new", dueWallMs: HOUR });
  });

  it("goes late after every and down (failed, alerted) after every + grace", () => {
    const state = started();
    nowMs = HOUR;
    expect(published(run(state, { type: "TimerFired", key: pingTimer("nightly", 0) }))).toEqual(["ping:late", "health:degraded"]);
    nowMs = HOUR + GRACE;
    const effects = run(state, { type: "TimerFired", key: pingTimer("nightly", 0) });
    expect(published(effects)).toEqual(["ping:down", "health:failed"]);
    expect(effects.filter((e) => e.type === "SetTimer")).toEqual([]);
  });

  it("is failed at once on /fail, and a timer of the deadline before it means nothing", () => {
    const state = started();
    nowMs = 1_000;
    const effects = run(state, { type: "PingReceived", name: "nightly", signal: { kind: "fail" } });
    expect(published(effects)).toEqual(["ping:down", "health:failed"]);
    nowMs = HOUR;
    expect(run(state, { type: "TimerFired", key: pingTimer("nightly", 0) })).toEqual([]);
    nowMs = HOUR + 5;
    const ok = run(state, { type: "PingReceived", name: "nightly", signal: { kind: "success" } });
    expect(published(ok)).toEqual(["ping:up", "health:healthy"]);
    expect(ok).toContainEqual({ type: "SetTimer", key: pingTimer("nightly", 2), delayMs: HOUR });
  });

  it("asks the runtime when a cron check is due, and keeps the answer of the latest ask", () => {
    nowMs = 0;
    const state = initialState(manifestOf(`
version: 1
services:
  api:
    command: api
  backup:
    ping: { cron: "0 3 * * *", grace: 10m }
`), 0);
    const effects = run(state, { type: "Started", pid: 1 });
    expect(effects.filter((e) => e.type === "ArmPing").map((e) => e.type === "ArmPing" && e.seq)).toEqual([0]);
    const armed = run(state, { type: "PingArmed", name: "backup", seq: 0, dueWallMs: 5_000 });
    expect(armed).toContainEqual({ type: "SetTimer", key: pingTimer("backup", 0), delayMs: 5_000 });
    nowMs = 5_000 + GRACE;
    expect(published(run(state, { type: "TimerFired", key: pingTimer("backup", 0) }))).toEqual(["ping:down", "health:failed"]);
  });
});
