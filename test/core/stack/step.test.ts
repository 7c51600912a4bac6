// step() alone: a state and an input in, the next state and the effects out. No loop, no timers, no
// adapters: what the supervisor decides is read straight off the effects it returns.
import { describe, expect, it } from "vitest";
import type { Effect } from "../../../src/core/stack/effects.js";
import type { Input } from "../../../src/core/stack/inputs.js";
import { initialState } from "../../../src/core/stack/state.js";
import { manifestOf } from "../../support/fake-world.js";
import { stepper } from "../../support/steps.js";

const ctx = { nowMs: 10_000, wallMs: 1_700_000_000_000, random: () => 0.5 };

/** Applies the inputs in order and returns the effects of the last one. */
const run = stepper(() => ctx.nowMs, () => ctx.wallMs);

function of<T extends Effect["type"]>(effects: readonly Effect[], type: T): Extract<Effect, { type: T }>[] {
  return effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
}

const STACK = `
version: 1
services:
  db:
    command: db
    heartbeat: { interval: 1s }
  api:
    command: api
    depends_on: { db: healthy }
`;

function ready(service: string, token: string): Input {
  return { type: "MessageReceived", message: { ok: true, message: { type: "ready", service, token, data: undefined, text: undefined } } };
}

describe("step", () => {
  it("starts what has no dependencies, and a dependant only once its dependency is healthy", () => {
    const state = initialState(manifestOf(STACK), ctx.wallMs);
    const first = run(state, { type: "Started", pid: 1 });
    expect(of(first, "Spawn").map((e) => e.id)).toEqual(["db#0"]);

    const spawned = run(state, { type: "ChildSpawned", id: "db#0", incarnation: 1, pid: 100, token: "t-db" });
    expect(of(spawned, "Spawn")).toEqual([]);
    // a heartbeat deadline for that child alone
    expect(of(spawned, "SetTimer").map((e) => e.key)).toContainEqual({ id: "db#0", incarnation: 1, kind: "heartbeat" });

    const api = run(state, ready("db", "t-db"));
    expect(of(api, "Spawn").map((e) => [e.id, e.spec.name, e.spec.argv])).toEqual([["api#0", "api", ["api"]]]);
  });

  it("ignores a message whose token is not the live child's, and says so once", () => {
    const state = initialState(manifestOf(STACK), ctx.wallMs);
    run(state, { type: "Started", pid: 1 }, { type: "ChildSpawned", id: "db#0", incarnation: 1, pid: 100, token: "t-db" });
    const effects = run(state, ready("db", "t-old"));
    expect(of(effects, "Spawn")).toEqual([]);
    expect(state.instances.get("db#0")?.status.state).toBe("running");
  });

  it("does nothing for the exit or the timer of an earlier incarnation", () => {
    const state = initialState(manifestOf(STACK), ctx.wallMs);
    run(state, { type: "Started", pid: 1 }, { type: "ChildSpawned", id: "db#0", incarnation: 1, pid: 100, token: "t-db" });
    expect(run(state, { type: "ChildExited", id: "db#0", incarnation: 0, code: 1, signal: null })).toEqual([]);
    expect(run(state, { type: "TimerFired", key: { id: "db#0", incarnation: 0, kind: "heartbeat" } })).toEqual([]);
    expect(state.instances.get("db#0")?.status).toMatchObject({ state: "running", pid: 100, restarts: 0 });
  });

  it("stops dependants first: the dependency is signalled only once they are gone", () => {
    const state = initialState(manifestOf(STACK), ctx.wallMs);
    run(
      state,
      { type: "Started", pid: 1 },
      { type: "ChildSpawned", id: "db#0", incarnation: 1, pid: 100, token: "t-db" },
      ready("db", "t-db"),
      { type: "ChildSpawned", id: "api#0", incarnation: 1, pid: 101, token: "t-api" },
    );
    const down = run(state, { type: "ShutdownRequested", kill: false });
    expect(of(down, "Signal").map((e) => [e.id, e.signal])).toEqual([["api#0", "SIGTERM"]]);

    const next = run(state, { type: "ChildExited", id: "api#0", incarnation: 1, code: 0, signal: "SIGTERM" });
    expect(of(next, "Signal").map((e) => [e.id, e.signal])).toEqual([["db#0", "SIGTERM"]]);
    expect(of(next, "Stopped")).toEqual([]);

    const last = run(state, { type: "ChildExited", id: "db#0", incarnation: 1, code: 0, signal: "SIGTERM" });
    expect(of(last, "Stopped")).toHaveLength(1);
  });

  it("scales a service: new instances told their index, surplus ones stopped from the top", () => {
    const state = initialState(manifestOf("version: 1\nservices:\n  web:\n    command: web\n"), ctx.wallMs);
    run(state, { type: "Started", pid: 1 }, { type: "ChildSpawned", id: "web#0", incarnation: 1, pid: 100, token: "t0" });

    const up = run(state, { type: "ControlRequested", replyTo: 7, command: { cmd: "scale", service: "web", replicas: 3 } });
    const spawns = of(up, "Spawn");
    expect(spawns.map((e) => [e.id, e.spec.name, e.spec.env["VIGIL_INSTANCE"], e.spec.env["VIGIL_REPLICAS"]])).toEqual([
      ["web#1", "web.1", "1", "3"],
      ["web#2", "web.2", "2", "3"],
    ]);
    expect(of(up, "Reply")).toMatchObject([{ to: 7, answer: { ok: true } }]);
    run(
      state,
      { type: "ChildSpawned", id: "web#1", incarnation: 1, pid: 101, token: "t1" },
      { type: "ChildSpawned", id: "web#2", incarnation: 1, pid: 102, token: "t2" },
    );

    const down = run(state, { type: "ControlRequested", replyTo: 8, command: { cmd: "scale", service: "web", replicas: 1 } });
    expect(of(down, "Signal").map((e) => e.id).sort()).toEqual(["web#1", "web#2"]);
    const gone = run(state, { type: "ChildExited", id: "web#2", incarnation: 1, code: 0, signal: "SIGTERM" });
    expect(of(gone, "ForgetInstance")).toEqual([{ type: "ForgetInstance", id: "web#2" }]);
    expect(state.services.get("web")?.instances).toEqual(["web#0", "web#1"]);
  });
});
