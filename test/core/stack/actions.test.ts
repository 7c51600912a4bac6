// `actions:` decided by step() with the time passed in: once per episode, then: none observes only (no
// signal, the pid stays), then: restart waits for the command before restarting.
import { describe, expect, it } from "vitest";
import { decideAction } from "../../../src/core/action-episodes.js";
import type { Effect } from "../../../src/core/stack/effects.js";
import { initialState, type StackState } from "../../../src/core/stack/state.js";
import { manifestOf } from "../../support/fake-world.js";
import { stepper } from "../../support/steps.js";

let nowMs = 0;
const run = stepper(() => nowMs);
const actions = (effects: readonly Effect[]): string[] => effects.flatMap((e) => (e.type === "RunAction" ? [e.env["VIGIL_EVENT_KIND"] ?? "?"] : []));
const signals = (effects: readonly Effect[]): string[] => effects.flatMap((e) => (e.type === "Signal" ? [e.id] : []));

function started(actionsYaml: string): StackState {
  nowMs = 0;
  const state = initialState(manifestOf(`
version: 1
services:
  api:
    command: api
    heartbeat: { via: socket, interval: 1s, misses: 3, startup_grace: 1s }
    actions:
${actionsYaml}
`), 0);
  run(state, { type: "Started", pid: 1 });
  run(state, { type: "ChildSpawned", id: "api#0", incarnation: 1, pid: 100, token: "t1" });
  return state;
}

const beat = { type: "MessageReceived", message: { ok: true, message: { type: "beat", service: "api", token: "t1", data: undefined, text: undefined } } } as const;
const heartbeatDue = { type: "TimerFired", key: { id: "api#0", incarnation: 1, kind: "heartbeat" } } as const;

/** silence from the last beat until `untilMs`, the heartbeat timer firing at each deadline */
function silence(state: StackState, untilMs: number): Effect[] {
  const all: Effect[] = [];
  let last = Number.NaN;
  for (let i = 0; i < 20; i++) {
    const due = state.instances.get("api#0")?.heartbeat?.dueMs;
    // once failed, the watch sets no further deadline
    if (due === undefined || due === null || due > untilMs || due === last) return all;
    last = due;
    nowMs = due;
    all.push(...run(state, heartbeatDue));
  }
  throw new Error("the heartbeat watch kept firing");
}

describe("actions", () => {
  it("runs an actions: critical command once per episode, with the event in VIGIL_EVENT_*, and again after a recovery", () => {
    const state = started("      critical: { run: dump-stack }");
    nowMs = 100;
    run(state, beat);
    const first = silence(state, 2_200);
    expect(actions(first)).toEqual(["critical"]);
    const effect = first.find((e) => e.type === "RunAction");
    expect(effect).toMatchObject({ argv: ["dump-stack"], env: { VIGIL_EVENT_SERVICE: "api", VIGIL_EVENT_PID: "100", VIGIL_EVENT_HEALTH: "critical", VIGIL_EVENT_THEN: "none" } });
    // critical again within the same episode (a beat that only brings it back to degraded): nothing more
    nowMs = 2_300;
    run(state, { type: "ActionFinished", seq: 1, result: { exitCode: 0, timedOut: false, error: null, output: "" } });
    expect(actions(silence(state, 2_900))).toEqual([]);
    // healthy again ends the episode: the next critical runs it again
    nowMs = 3_000;
    run(state, beat);
    expect(actions(silence(state, 5_100))).toEqual(["critical"]);
  });

  it("then: none on failed observes only: no signal, the pid stays, the failure is published as observed", () => {
    const state = started("      failed: { run: notify-me, then: none }");
    nowMs = 100;
    run(state, beat);
    const effects = silence(state, 10_000);
    expect(actions(effects)).toEqual(["failed"]);
    expect(signals(effects)).toEqual([]);
    const failure = effects.find((e) => e.type === "Publish" && e.event.kind === "failure");
    expect(failure).toMatchObject({ event: { fields: { reason: "heartbeat", observe: true } } });
    expect(state.instances.get("api#0")?.status).toMatchObject({ state: "running", pid: 100 });
  });

  it("then: restart holds the restart back until the command is done", () => {
    const state = started("      failed: { run: collect-logs }");
    nowMs = 100;
    run(state, beat);
    const effects = silence(state, 10_000);
    expect(actions(effects)).toEqual(["failed"]);
    expect(signals(effects)).toEqual([]);
    const done = run(state, { type: "ActionFinished", seq: 1, result: { exitCode: 0, timedOut: false, error: null, output: "" } });
    expect(signals(done)).toEqual(["api#0"]);
  });

  it("decides: nothing configured does as always; a repeat within an episode runs nothing", () => {
    const config = { argv: ["x"], shell: false, display: "x", then: "none" as const, timeoutMs: 1_000 };
    expect(decideAction("failed", {}, new Set(), true, false)).toEqual({ kind: "none" });
    expect(decideAction("failed", {}, new Set(), true, true)).toEqual({ kind: "repeat", restart: false });
    expect(decideAction("failed", { failed: config }, new Set(["failed"]), true, false)).toEqual({ kind: "repeat", restart: false });
    expect(decideAction("critical", { critical: { ...config, then: "restart" } }, new Set(), false, false)).toMatchObject({ kind: "run", restart: true });
  });
});
