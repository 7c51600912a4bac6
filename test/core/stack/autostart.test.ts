// Which services the stack starts (up NAME..., disabled) and when stop and restart answer, decided by
// step() alone: the clock is a number passed in.
import { describe, expect, it } from "vitest";
import type { Effect } from "../../../src/core/stack/effects.js";
import { initialState, type StackState } from "../../../src/core/stack/state.js";
import { manifestOf } from "../../support/fake-world.js";
import { stepper } from "../../support/steps.js";

let nowMs = 10_000;
const ctx = () => ({ nowMs, wallMs: 1_700_000_000_000 + nowMs, random: () => 0.5 });

const run = stepper(() => nowMs);

const spawned = (effects: readonly Effect[]): string[] => effects.flatMap((e) => (e.type === "Spawn" ? [e.id] : []));
const replies = (effects: readonly Effect[]): unknown[] => effects.flatMap((e) => (e.type === "Reply" ? [e.answer] : []));

const STACK = `
version: 1
services:
  db:
    command: db
  cache:
    command: cache
  api:
    command: api
    depends_on: [db, cache]
  web:
    command: web
    depends_on: [api]
  worker:
    command: worker
  report:
    command: report
    disabled: true
  mailer:
    command: mailer
    autostart: false
`;

function spawnedAndRunning(state: StackState, id: string, pid: number): Effect[] {
  const incarnation = state.instances.get(id)!.status.incarnation;
  return run(state, { type: "ChildSpawned", id, incarnation, pid, token: `t-${id}-${incarnation}` });
}

describe("which services the stack starts", () => {
  it("starts every service but the disabled ones", () => {
    const state = initialState(manifestOf(STACK), 0);
    expect(spawned(run(state, { type: "Started", pid: 1 })).sort()).toEqual(["cache#0", "db#0", "worker#0"]);
    expect(state.instances.get("report#0")?.status.state).toBe("stopped");
    expect(state.instances.get("mailer#0")?.status.state).toBe("stopped");
  });

  it("with up NAME starts that service and what it depends on, transitively, and nothing else", () => {
    const state = initialState(manifestOf(STACK), 0);
    expect(spawned(run(state, { type: "Started", pid: 1, only: ["web"] })).sort()).toEqual(["cache#0", "db#0"]);
    spawnedAndRunning(state, "db#0", 100);
    expect(spawned(spawnedAndRunning(state, "cache#0", 101))).toEqual(["api#0"]);
    expect(spawned(spawnedAndRunning(state, "api#0", 102))).toEqual(["web#0"]);
    expect(state.instances.get("worker#0")?.status.state).toBe("stopped");
  });

  it("starts a disabled service named by up NAME, and a disabled dependency of it", () => {
    const manifest = STACK.replace("command: report\n", "command: report\n    depends_on: [mailer]\n");
    const state = initialState(manifestOf(manifest), 0);
    expect(spawned(run(state, { type: "Started", pid: 1, only: ["report"] }))).toEqual(["mailer#0"]);
    expect(spawned(spawnedAndRunning(state, "mailer#0", 100))).toEqual(["report#0"]);
  });

  it("vigil start on a service left out by up NAME starts its dependencies first", () => {
    const state = initialState(manifestOf(STACK), 0);
    run(state, { type: "Started", pid: 1, only: ["worker"] });
    const effects = run(state, { type: "ControlRequested", replyTo: 7, command: { cmd: "start", names: ["api"] } });
    expect(spawned(effects).sort()).toEqual(["cache#0", "db#0"]);
    expect(replies(effects)).toEqual([{ ok: true }]);
    spawnedAndRunning(state, "db#0", 100);
    expect(spawned(spawnedAndRunning(state, "cache#0", 101))).toEqual(["api#0"]);
    expect(state.instances.get("web#0")?.status.state).toBe("stopped");
  });

  it("start and restart with no name leave a disabled service alone, naming it starts it", () => {
    const state = initialState(manifestOf(STACK), 0);
    run(state, { type: "Started", pid: 1 });
    expect(spawned(run(state, { type: "ControlRequested", replyTo: 1, command: { cmd: "start", names: [] } }))).not.toContain("report#0");
    expect(spawned(run(state, { type: "ControlRequested", replyTo: 2, command: { cmd: "start", names: ["report"] } }))).toEqual(["report#0"]);
  });
});

describe("stop and restart that wait", () => {
  const ONE = `
version: 1
services:
  api:
    command: api
    stop: { timeout: 5s }
`;

  it("a stop answers once the job is gone, not when it is asked", () => {
    const state = initialState(manifestOf(ONE), 0);
    run(state, { type: "Started", pid: 1 });
    spawnedAndRunning(state, "api#0", 100);
    const asked = run(state, { type: "ControlRequested", replyTo: 3, command: { cmd: "stop", names: [], wait: true } });
    expect(asked.some((e) => e.type === "Signal")).toBe(true);
    expect(replies(asked)).toEqual([]);
    nowMs += 5_000;
    const killed = run(state, { type: "TimerFired", key: { id: "api#0", incarnation: 1, kind: "stop" } });
    expect(killed.some((e) => e.type === "KillJob")).toBe(true);
    expect(replies(killed)).toEqual([]);
    const gone = run(state, { type: "ChildExited", id: "api#0", incarnation: 1, code: null, signal: "SIGKILL" });
    expect(replies(gone)).toEqual([{ ok: true }]);
  });

  it("a stop overtaken by a start answers that it was started again, rather than waiting for ever", () => {
    const state = initialState(manifestOf(ONE), 0);
    run(state, { type: "Started", pid: 1 });
    spawnedAndRunning(state, "api#0", 100);
    expect(replies(run(state, { type: "ControlRequested", replyTo: 3, command: { cmd: "stop", names: ["api"], wait: true } }))).toEqual([]);
    expect(replies(run(state, { type: "ControlRequested", replyTo: 4, command: { cmd: "start", names: ["api"] } }))).toEqual([{ ok: true }]);
    const gone = run(state, { type: "ChildExited", id: "api#0", incarnation: 1, code: null, signal: "SIGTERM" });
    expect(spawned(gone)).toEqual(["api#0"]);
    expect(replies(gone)).toEqual([{ ok: false, error: "api was started again", code: "not-done" }]);
  });

  it("a restart answers once the new child runs; without wait at once", () => {
    const state = initialState(manifestOf(ONE), 0);
    run(state, { type: "Started", pid: 1 });
    spawnedAndRunning(state, "api#0", 100);
    expect(replies(run(state, { type: "ControlRequested", replyTo: 4, command: { cmd: "restart", names: ["api"] } }))).toEqual([{ ok: true }]);
    run(state, { type: "ChildExited", id: "api#0", incarnation: 1, code: null, signal: "SIGTERM" });
    spawnedAndRunning(state, "api#0", 101);

    expect(replies(run(state, { type: "ControlRequested", replyTo: 5, command: { cmd: "restart", names: ["api"], wait: true } }))).toEqual([]);
    const exited = run(state, { type: "ChildExited", id: "api#0", incarnation: 2, code: null, signal: "SIGTERM" });
    expect(spawned(exited)).toEqual(["api#0"]);
    expect(replies(exited)).toEqual([]);
    expect(replies(spawnedAndRunning(state, "api#0", 102))).toEqual([{ ok: true }]);
  });

  it("a restart whose new child cannot start answers that it did not", () => {
    const state = initialState(manifestOf(ONE), 0);
    run(state, { type: "Started", pid: 1 });
    spawnedAndRunning(state, "api#0", 100);
    run(state, { type: "ControlRequested", replyTo: 6, command: { cmd: "restart", names: ["api"], wait: true } });
    run(state, { type: "ChildExited", id: "api#0", incarnation: 1, code: null, signal: "SIGTERM" });
    const failed = run(state, { type: "SpawnFailed", id: "api#0", incarnation: 2, error: "ENOENT" });
    expect(replies(failed)).toEqual([{ ok: false, error: "api did not start (backoff)", code: "not-done" }]);
  });
});
