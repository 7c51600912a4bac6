// Restarts on file change, decided by step() with the time passed in: the debounce folds a burst into
// one restart, and a service that keeps changing its own files is paused as a loop.
import { describe, expect, it } from "vitest";
import type { Effect } from "../../../src/core/stack/effects.js";
import type { Input } from "../../../src/core/stack/inputs.js";
import { initialState, type StackState } from "../../../src/core/stack/state.js";
import { decideWatchRestart, watchTimer } from "../../../src/core/stack/watch.js";
import { manifestOf } from "../../support/fake-world.js";
import { stepper } from "../../support/steps.js";

let nowMs = 0;
const run = stepper(() => nowMs);
const kinds = (effects: readonly Effect[]): string[] => effects.flatMap((e) => (e.type === "Publish" ? [e.event.kind] : []));
const signals = (effects: readonly Effect[]): string[] => effects.flatMap((e) => (e.type === "Signal" ? [e.id] : []));

const STACK = `
version: 1
services:
  api:
    command: api
    watch: { paths: [src], debounce: 300ms, max_restarts: 2, window: 10s }
  db:
    command: db
`;

function started(): StackState {
  nowMs = 0;
  const state = initialState(manifestOf(STACK), 0);
  run(state, { type: "Started", pid: 1 });
  run(state, { type: "ChildSpawned", id: "api#0", incarnation: 1, pid: 100, token: "a1" });
  run(state, { type: "ChildSpawned", id: "db#0", incarnation: 1, pid: 200, token: "d1" });
  return state;
}

const change = (path = "src/a.js"): Input => ({ type: "FilesChanged", service: "api", path });
const due: Input = { type: "TimerFired", key: watchTimer("api") };

function restartOnce(state: StackState, pid: number): Effect[] {
  run(state, change());
  nowMs += 300;
  const effects = run(state, due);
  const incarnation = state.instances.get("api#0")!.status.incarnation;
  run(state, { type: "ChildExited", id: "api#0", incarnation, code: null, signal: "SIGTERM" });
  run(state, { type: "ChildSpawned", id: "api#0", incarnation: incarnation + 1, pid, token: `a${pid}` });
  return effects;
}

describe("restart on file change", () => {
  it("folds a burst of changes into one restart of that service only, after the debounce", () => {
    const state = started();
    for (let i = 0; i < 5; i++) {
      const effects = run(state, change(`src/${i}.js`));
      expect(effects).toContainEqual({ type: "SetTimer", key: watchTimer("api"), delayMs: 300 });
      nowMs += 50;
    }
    nowMs += 300;
    const effects = run(state, due);
    expect(signals(effects)).toEqual(["api#0"]);
    expect(kinds(effects)).toContain("watch-restart");
    const event = effects.find((e) => e.type === "Publish" && e.event.kind === "watch-restart");
    expect(event?.type === "Publish" && event.event.fields).toEqual({ path: "src/0.js", changes: 5 });
    run(state, { type: "ChildExited", id: "api#0", incarnation: 1, code: null, signal: "SIGTERM" });
    expect(state.instances.get("api#0")?.status).toMatchObject({ state: "starting", restarts: 1 });
    expect(state.instances.get("api#0")?.status.lastExit?.reason).toBe("watch");
    expect(state.instances.get("db#0")?.status.pid).toBe(200);
  });

  it("pauses watching with a warning when restarts on change loop, and resumes on a manual restart", () => {
    const state = started();
    expect(signals(restartOnce(state, 101))).toEqual(["api#0"]);
    nowMs += 1_000;
    expect(signals(restartOnce(state, 102))).toEqual(["api#0"]);
    nowMs += 1_000;
    run(state, change());
    nowMs += 300;
    const paused = run(state, due);
    expect(signals(paused)).toEqual([]);
    expect(kinds(paused)).toContain("watch-paused");
    expect(paused.find((e) => e.type === "Publish" && e.event.kind === "watch-paused")?.type === "Publish" ? "warn" : null).toBe("warn");
    // paused: changes are not even timed
    expect(run(state, change())).toEqual([]);

    const resumed = run(state, { type: "ControlRequested", replyTo: 1, command: { cmd: "restart", names: ["api"] } });
    expect(kinds(resumed)).toContain("watch-resumed");
    expect(run(state, change())).toContainEqual({ type: "SetTimer", key: watchTimer("api"), delayMs: 300 });
  });

  it("does not start a service a person stopped", () => {
    const state = started();
    run(state, { type: "ControlRequested", replyTo: 1, command: { cmd: "stop", names: ["api"] } });
    run(state, { type: "ChildExited", id: "api#0", incarnation: 1, code: null, signal: "SIGTERM" });
    run(state, change());
    nowMs += 300;
    expect(run(state, due).some((e) => e.type === "Spawn")).toBe(false);
    expect(state.instances.get("api#0")?.status.state).toBe("stopped");
  });
});

describe("decideWatchRestart", () => {
  const config = { paths: [], ignore: [], debounceMs: 0, maxRestarts: 2, windowMs: 10_000 };
  it("counts only the restarts inside the window", () => {
    expect(decideWatchRestart(config, [0, 1_000], 5_000).kind).toBe("loop");
    expect(decideWatchRestart(config, [0, 1_000], 10_500)).toEqual({ kind: "restart", restartTimes: [1_000, 10_500] });
  });
});
