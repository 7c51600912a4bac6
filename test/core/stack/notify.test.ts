// The notify protocol's meaning, decided by step() alone with time passed in.
import { describe, expect, it } from "vitest";
import { parseNotify } from "../../../src/core/notify-message.js";
import type { Effect } from "../../../src/core/stack/effects.js";
import type { Input } from "../../../src/core/stack/inputs.js";
import { healthOf } from "../../../src/core/stack/health.js";
import { initialState, type StackState } from "../../../src/core/stack/state.js";
import { step } from "../../../src/core/stack/step.js";
import { manifestOf } from "../../support/fake-world.js";

const WALL = 1_700_000_000_000;

const STACK = `
version: 1
services:
  db:
    command: redis-server
    heartbeat: { via: notify, interval: 1s, misses: 3, startup_grace: 5s }
  api:
    command: api
    depends_on: { db: healthy }
`;

function world() {
  const state: StackState = initialState(manifestOf(STACK), WALL);
  let nowMs = 0;
  const run = (input: Input, atMs = nowMs): Effect[] => {
    nowMs = atMs;
    return [...step(state, input, { nowMs, wallMs: WALL + nowMs, random: () => 0.5 }).effects];
  };
  const notify = (text: string, atMs?: number, incarnation = 1): Effect[] =>
    run({ type: "NotifyReceived", id: "db#0", incarnation, datagram: parseNotify(text) }, atMs);
  const spawns = (effects: Effect[]) => effects.flatMap((e) => (e.type === "Spawn" ? [e.id] : []));
  const db = () => state.instances.get("db#0")!;
  return { state, run, notify, spawns, db };
}

function started() {
  const w = world();
  const first = w.run({ type: "Started", pid: 1 }, 0);
  w.run({ type: "ChildSpawned", id: "db#0", incarnation: 1, pid: 100, token: "t-db" }, 10);
  return { ...w, first };
}

describe("heartbeat.via: notify", () => {
  it("asks for a notify socket and tells the child WATCHDOG_USEC, the interval in µs", () => {
    const { first } = started();
    const spawn = first.find((e) => e.type === "Spawn");
    expect(spawn?.type === "Spawn" && [spawn.spec.notify, spawn.spec.ipc, spawn.spec.env["WATCHDOG_USEC"]]).toEqual([true, false, "1000000"]);
    expect(spawn?.type === "Spawn" && "WATCHDOG_PID" in spawn.spec.env).toBe(false);
  });

  it("READY=1 makes the instance healthy and starts what waits for it to be healthy", () => {
    const w = started();
    expect(w.spawns(w.notify("STATUS=loading", 50))).toEqual([]);
    expect(w.db().messages.statusText).toBe("loading");
    expect(w.spawns(w.notify("READY=1\nSTATUS=Ready to accept connections", 100))).toEqual(["api#0"]);
    expect(w.db().messages).toMatchObject({ ready: true, statusText: "Ready to accept connections", beats: 1 });
    expect(healthOf(w.state, w.db(), 100)).toBe("healthy");
  });

  it("WATCHDOG=1 is a beat: the instance stays healthy while they come, and fails when they stop", () => {
    const w = started();
    w.notify("READY=1", 100);
    for (let at = 600; at <= 3100; at += 500) w.notify("WATCHDOG=1", at);
    expect(w.db().messages.beats).toBe(7);
    expect(healthOf(w.state, w.db(), 3500)).toBe("healthy");
    const fire = (atMs: number) => w.run({ type: "TimerFired", key: { id: "db#0", incarnation: 1, kind: "heartbeat" } }, atMs);
    fire(3100 + 1000);
    fire(3100 + 2000);
    const silent = fire(3100 + 3000);
    expect(silent).toContainEqual({ type: "Signal", id: "db#0", incarnation: 1, signal: "SIGTERM" });
    expect(w.db().status.state).toBe("stopping");
  });

  it("WATCHDOG=trigger fails the heartbeat at once: stopped, and restarted with reason heartbeat", () => {
    const w = started();
    w.notify("READY=1", 100);
    const effects = w.notify("WATCHDOG=trigger", 200);
    expect(effects).toContainEqual({ type: "Signal", id: "db#0", incarnation: 1, signal: "SIGTERM" });
    expect(effects.filter((e) => e.type === "Publish").map((e) => e.type === "Publish" && [e.event.kind, e.event.fields])).toContainEqual([
      "health",
      { health: "failed", previous: "healthy" },
    ]);
    w.run({ type: "ChildExited", id: "db#0", incarnation: 1, code: null, signal: "SIGTERM" }, 300);
    expect(w.db().status).toMatchObject({ state: "backoff", lastExit: { reason: "heartbeat" } });
  });

  it("EXTEND_TIMEOUT_USEC moves the startup deadline later, never earlier", () => {
    const w = started();
    // the first beat is required by max(startup_grace 5s, 3 × 1s) after the spawn at 10 ms
    const extended = w.notify("EXTEND_TIMEOUT_USEC=20000000", 1000);
    expect(extended).toContainEqual({ type: "SetTimer", key: { id: "db#0", incarnation: 1, kind: "heartbeat" }, delayMs: 20_000 });
    expect(w.notify("EXTEND_TIMEOUT_USEC=1000000", 2000)).toEqual([]);
    // the old deadline passes: the instance is not failed
    const early = w.run({ type: "TimerFired", key: { id: "db#0", incarnation: 1, kind: "heartbeat" } }, 5010);
    expect(early.filter((e) => e.type === "Signal")).toEqual([]);
    expect(w.db().status.state).toBe("running");
    const late = w.run({ type: "TimerFired", key: { id: "db#0", incarnation: 1, kind: "heartbeat" } }, 21_000);
    expect(late).toContainEqual({ type: "Signal", id: "db#0", incarnation: 1, signal: "SIGTERM" });
  });

  it("STOPPING=1 ends the watch: the silence that follows is not a hang", () => {
    const w = started();
    w.notify("READY=1", 100);
    expect(w.notify("STOPPING=1", 200)).toContainEqual({ type: "CancelTimer", key: { id: "db#0", incarnation: 1, kind: "heartbeat" } });
    expect(w.db().heartbeat).toBeNull();
    // the exit that follows is judged by its code, as any exit is
    w.run({ type: "ChildExited", id: "db#0", incarnation: 1, code: 0, signal: null }, 300);
    expect(w.db().status).toMatchObject({ state: "exited", lastExit: { reason: "exit", code: 0 } });
  });

  it("counts garbage as rejected for the service, and still takes the valid lines beside it", () => {
    const w = started();
    w.notify("\u00ff\u00fe garbage", 50);
    w.notify("", 60);
    w.notify("READY=yes\nWATCHDOG=1", 70);
    expect(w.state.rejectedTotal).toBe(3);
    expect(w.state.services.get("db")?.rejected).toBe(3);
    expect(w.db().messages.beats).toBe(1);
    // ignored keys alone are no fault
    w.notify("MAINPID=1\nFDSTORE=1", 80);
    expect(w.state.rejectedTotal).toBe(3);
  });

  it("takes nothing from the socket of an earlier child", () => {
    const w = started();
    expect(w.notify("READY=1", 100, 0)).toEqual([]);
    expect(w.db().messages.ready).toBe(false);
  });
});
