// Start-first restarts, decided by step() alone with the time passed in: a new instance starts beside
// the old, the old is stopped only once the new one is ready, and a new one that fails is given up.
import { describe, expect, it } from "vitest";
import type { Effect } from "../../../src/core/stack/effects.js";
import type { Input } from "../../../src/core/stack/inputs.js";
import { initialState, withRollovers, type StackState } from "../../../src/core/stack/state.js";
import { manifestOf } from "../../support/fake-world.js";
import { stepper } from "../../support/steps.js";

let nowMs = 10_000;
const ctx = () => ({ nowMs, wallMs: 1_700_000_000_000 + nowMs, random: () => 0.5 });

const run = stepper(() => nowMs);

function of<T extends Effect["type"]>(effects: readonly Effect[], type: T): Extract<Effect, { type: T }>[] {
  return effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
}

const rollovers = (effects: readonly Effect[]) =>
  of(effects, "Publish").map((p) => p.event).filter((e) => e.kind === "rollover").map((e) => [e.fields.outcome, e.fields.detail]);

const manifest = (replicas = 1) => `
version: 1
services:
  web:
    command: web
    replicas: ${replicas}
    restart: { mode: start-first, ready_timeout: 5s }
    heartbeat: { via: socket, interval: 1s, misses: 3, startup_grace: 10s }
`;

const spawned = (id: string, pid: number, token: string, incarnation = 1): Input => ({ type: "ChildSpawned", id, incarnation, pid, token });
const ready = (token: string): Input => ({
  type: "MessageReceived",
  message: { ok: true, message: { type: "ready", service: "web", token, data: undefined, text: undefined } },
});
const restart = (names: string[] = ["web"]): Input => ({ type: "ControlRequested", replyTo: 1, command: { cmd: "restart", names } });
const exited = (id: string, code: number | null, signal: string | null = null, incarnation = 1): Input => ({ type: "ChildExited", id, incarnation, code, signal });

function running(replicas = 1): StackState {
  nowMs = 10_000;
  const state = initialState(manifestOf(manifest(replicas)), ctx().wallMs);
  run(state, { type: "Started", pid: 1 });
  for (let i = 0; i < replicas; i++) run(state, spawned(`web#${i}`, 100 + i, `t${i}`), ready(`t${i}`));
  return state;
}

describe("start-first restarts", () => {
  it("starts the new child beside the old one and stops the old one only once the new one is ready", () => {
    const state = running();
    const asked = run(state, restart());
    expect(of(asked, "Spawn").map((e) => e.id)).toEqual(["web#0+1"]);
    expect(of(asked, "Signal")).toEqual([]);
    // its own job (cgroup), since both run at once
    expect(of(asked, "Spawn")[0]?.spec.job).toBe("web+");
    expect(of(asked, "SetTimer").map((e) => e.key)).toContainEqual({ id: "web#0+1", incarnation: 1, kind: "ready" });

    run(state, spawned("web#0+1", 200, "n1"));
    // both are shown while they overlap, each with its own pid
    const shown = withRollovers(state, ["web#0"]).map((id) => [id, state.instances.get(id)?.status.pid, state.instances.get(id)?.role]);
    expect(shown).toEqual([["web#0", 100, "current"], ["web#0+1", 200, "new"]]);

    const kept = run(state, ready("n1"));
    expect(of(kept, "Signal").map((e) => [e.id, e.signal])).toEqual([["web#0", "SIGTERM"]]);
    expect(rollovers(kept)).toEqual([["done", ""]]);
    expect(state.services.get("web")?.instances).toEqual(["web#0+1"]);
    expect(state.instances.get("web#0+1")?.status).toMatchObject({ state: "running", pid: 200, restarts: 1 });

    const gone = run(state, exited("web#0", 0, "SIGTERM"));
    expect(of(gone, "ForgetInstance")).toEqual([{ type: "ForgetInstance", id: "web#0" }]);
    expect(of(gone, "Spawn")).toEqual([]);
    expect([...state.instances.keys()]).toEqual(["web#0+1"]);
  });

  it("takes the first heartbeat as ready, and the next restart alternates the job name", () => {
    const state = running();
    run(state, restart(), spawned("web#0+1", 200, "n1"));
    const beat: Input = { type: "MessageReceived", message: { ok: true, message: { type: "beat", service: "web", token: "n1", data: undefined, text: undefined } } };
    expect(of(run(state, beat), "Signal").map((e) => e.id)).toEqual(["web#0"]);
    run(state, exited("web#0", 0, "SIGTERM"));
    expect(of(run(state, restart()), "Spawn").map((e) => [e.id, e.spec.job])).toEqual([["web#0+2", "web"]]);
  });

  it("keeps the old child serving when the new one exits before it is ready, and says why", () => {
    const state = running();
    run(state, restart(), spawned("web#0+1", 200, "n1"));
    const failed = run(state, exited("web#0+1", 3));
    expect(of(failed, "Signal")).toEqual([]);
    expect(of(failed, "Spawn")).toEqual([]);
    expect(rollovers(failed)).toEqual([["failed", "it exited with code 3 before it was ready"]]);
    expect(of(failed, "ForgetInstance")).toEqual([{ type: "ForgetInstance", id: "web#0+1" }]);
    const old = state.instances.get("web#0");
    expect(old?.status).toMatchObject({ state: "running", pid: 100, restarts: 0 });
    expect(old?.rolloverError).toBe("it exited with code 3 before it was ready");
    expect(state.rollovers.size).toBe(0);
  });

  it("stops a new child that is not ready within ready_timeout and keeps the old one", () => {
    const state = running();
    run(state, restart(), spawned("web#0+1", 200, "n1"));
    nowMs += 5_000;
    const late = run(state, { type: "TimerFired", key: { id: "web#0+1", incarnation: 1, kind: "ready" } });
    expect(of(late, "Signal").map((e) => [e.id, e.signal])).toEqual([["web#0+1", "SIGTERM"]]);
    expect(rollovers(late)).toEqual([["failed", "not ready within ready_timeout (5s)"]]);
    const gone = run(state, exited("web#0+1", null, "SIGTERM"));
    expect(of(gone, "ForgetInstance")).toEqual([{ type: "ForgetInstance", id: "web#0+1" }]);
    expect(state.instances.get("web#0")?.status).toMatchObject({ state: "running", pid: 100 });
    // a later ready of the given-up child changes nothing
    expect(of(run(state, ready("n1")), "Signal")).toEqual([]);
  });

  it("answers each restart whose replacement is given up, also a second one that fails the same way", () => {
    const state = running();
    const replies = (effects: readonly Effect[]) => of(effects, "Reply").map((r) => r.answer);
    for (const attempt of [1, 2]) {
      // as `vigil restart` asks: answered once done
      const asked = run(state, { type: "ControlRequested", replyTo: attempt, command: { cmd: "restart", names: ["web"], wait: true } });
      const id = of(asked, "Spawn")[0]!.id;
      run(state, spawned(id, 200 + attempt, `n${attempt}`));
      nowMs += 5_000;
      const late = run(state, { type: "TimerFired", key: { id, incarnation: 1, kind: "ready" } });
      // the same words both times: the answer must not wait for different ones
      expect(replies(late)).toEqual([{ ok: false, code: "not-done", error: "web kept its running child: not ready within ready_timeout (5s)" }]);
      run(state, exited(id, null, "SIGTERM"));
      expect(state.instances.get("web#0")?.status).toMatchObject({ state: "running", pid: 100 });
    }
  });

  it("respawns a crashed instance as ever: there is nothing left to keep serving", () => {
    const state = running();
    const crashed = run(state, exited("web#0", 1));
    expect(of(crashed, "SetTimer").map((e) => e.key.kind)).toContain("backoff");
    expect(state.instances.get("web#0")?.status.state).toBe("backoff");
    expect(state.rollovers.size).toBe(0);
    const respawn = run(state, { type: "TimerFired", key: { id: "web#0", incarnation: 1, kind: "backoff" } });
    expect(of(respawn, "Spawn").map((e) => [e.id, e.incarnation])).toEqual([["web#0", 2]]);
  });

  it("replaces a child whose heartbeat failed start-first too", () => {
    const state = running();
    // the watch re-arms at each level (degraded, critical) until it fails
    let silent: Effect[] = [];
    for (let i = 0; i < 5 && of(silent, "Spawn").length === 0; i++) {
      nowMs += 1_000;
      silent = run(state, { type: "TimerFired", key: { id: "web#0", incarnation: 1, kind: "heartbeat" } });
    }
    expect(of(silent, "Spawn").map((e) => e.id)).toEqual(["web#0+1"]);
    expect(of(silent, "Signal")).toEqual([]);
    run(state, spawned("web#0+1", 200, "n1"));
    expect(of(run(state, ready("n1")), "Signal").map((e) => e.id)).toEqual(["web#0"]);
    expect(state.instances.get("web#0+1")?.restartsByReason).toEqual({ heartbeat: 1 });
  });

  it("restarts a hung child stop-first when its start-first replacement fails, instead of leaving it", () => {
    const state = running();
    let silent: Effect[] = [];
    for (let i = 0; i < 5 && of(silent, "Spawn").length === 0; i++) {
      nowMs += 1_000;
      silent = run(state, { type: "TimerFired", key: { id: "web#0", incarnation: 1, kind: "heartbeat" } });
    }
    run(state, spawned("web#0+1", 200, "n1"));
    const failed = run(state, exited("web#0+1", 3));
    expect(rollovers(failed)).toEqual([["failed", "it exited with code 3 before it was ready"]]);
    // the old one, whose heartbeat failed, gets its stop signal now
    expect(of(failed, "Signal").map((e) => e.id)).toEqual(["web#0"]);
    expect(state.instances.get("web#0")?.status.state).toBe("stopping");
    // and is respawned in its own slot after it exits
    run(state, exited("web#0", null, "SIGTERM"));
    nowMs += 60_000;
    const later = run(state, { type: "TimerFired", key: { id: "web#0", incarnation: 1, kind: "backoff" } });
    expect(of(later, "Spawn").map((e) => e.id)).toEqual(["web#0"]);
  });

  it("rolls replicas one at a time: the next starts once the one before is ready", () => {
    const state = running(3);
    const asked = run(state, restart());
    expect(of(asked, "Spawn").map((e) => e.id)).toEqual(["web#0+1"]);
    run(state, spawned("web#0+1", 200, "n0"));
    const first = run(state, ready("n0"));
    expect(of(first, "Signal").map((e) => e.id)).toEqual(["web#0"]);
    expect(of(first, "Spawn").map((e) => e.id)).toEqual(["web#1+1"]);
    run(state, spawned("web#1+1", 201, "n1"));
    const second = run(state, ready("n1"));
    expect(of(second, "Signal").map((e) => e.id)).toEqual(["web#1"]);
    expect(of(second, "Spawn").map((e) => e.id)).toEqual(["web#2+1"]);
    run(state, spawned("web#2+1", 202, "n2"));
    const third = run(state, ready("n2"));
    expect(of(third, "Signal").map((e) => e.id)).toEqual(["web#2"]);
    expect(of(third, "Spawn")).toEqual([]);
    expect(state.services.get("web")?.instances).toEqual(["web#0+1", "web#1+1", "web#2+1"]);
  });

  it("restarts stop-first as before when the mode is not set", () => {
    nowMs = 10_000;
    const state = initialState(manifestOf("version: 1\nservices:\n  web:\n    command: web\n"), ctx().wallMs);
    run(state, { type: "Started", pid: 1 }, spawned("web#0", 100, "t0"));
    const asked = run(state, restart());
    expect(of(asked, "Signal").map((e) => e.id)).toEqual(["web#0"]);
    expect(of(asked, "Spawn")).toEqual([]);
  });
});
