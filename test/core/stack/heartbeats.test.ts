// Beats and health, decided by step() alone: the clock is a number passed in.
import { describe, expect, it } from "vitest";
import type { Effect } from "../../../src/core/stack/effects.js";
import type { Input } from "../../../src/core/stack/inputs.js";
import { healthOf } from "../../../src/core/stack/health.js";
import { initialState } from "../../../src/core/stack/state.js";
import { manifestOf } from "../../support/fake-world.js";
import { stepper } from "../../support/steps.js";

let nowMs = 10_000;
const run = stepper(() => nowMs);

const STACK = `
version: 1
services:
  db:
    command: db
    heartbeat: { interval: 1s, misses: 3, startup_grace: 1s }
    stop: { timeout: 5s }
`;

const beat: Input = { type: "MessageReceived", message: { ok: true, message: { type: "beat", service: "db", token: "t-db", data: undefined, text: undefined } } };
const healthEvents = (effects: readonly Effect[]): string[] =>
  effects.flatMap((e) => (e.type === "Publish" && e.event.kind === "health" ? [`${e.event.fields.previous} -> ${e.event.fields.health}`] : []));

describe("health of a child killed for its silence", () => {
  it("stays failed when it beats again while it is being stopped, and the beat is still counted", () => {
    const state = initialState(manifestOf(STACK), 0);
    run(state, { type: "Started", pid: 1 }, { type: "ChildSpawned", id: "db#0", incarnation: 1, pid: 100, token: "t-db" }, beat);
    expect(state.instances.get("db#0")?.status.state).toBe("running");
    const seen: string[] = [];
    let signalled = false;
    // silence: the deadline steps it down until it fails and is signalled
    for (let i = 0; i < 10 && !signalled; i++) {
      nowMs += 1_000;
      const effects = run(state, { type: "TimerFired", key: { id: "db#0", incarnation: 1, kind: "heartbeat" } });
      seen.push(...healthEvents(effects));
      signalled = effects.some((e) => e.type === "Signal");
    }
    expect(signalled).toBe(true);
    expect(seen.at(-1)).toBe("critical -> failed");
    expect(state.instances.get("db#0")?.status.state).toBe("stopping");
    // it ignores SIGTERM and beats again
    nowMs += 500;
    const beats = state.instances.get("db#0")!.messages.beats;
    expect(healthEvents(run(state, beat))).toEqual([]);
    expect(state.instances.get("db#0")!.messages.beats).toBe(beats + 1);
    // what the status document shows
    expect(healthOf(state, state.instances.get("db#0")!, nowMs)).toBe("failed");
  });
});
