// What the loop tells a service manager above vigil (SPEC §6.3), in fake time through the real loop.
import { describe, expect, it } from "vitest";
import { summary } from "../../src/core/stack/announce.js";
import { FakeWorld } from "../support/fake-world.js";

const STACK = `
version: 1
services:
  db:
    command: redis-server
    heartbeat: { via: notify, interval: 1s, startup_grace: 5s }
  api:
    command: api
    depends_on: { db: healthy }
  worker:
    command: worker
    replicas: 2
`;

describe("announcing to systemd", () => {
  it("says READY once, when no instance is still starting: after a dependant waiting for healthy has started", () => {
    const w = new FakeWorld(STACK).start();
    expect(w.announced).toEqual([]);
    expect(summary(w.state)).toBe("3 running, 1 starting");
    w.notify("db", "READY=1");
    expect(w.announced).toEqual(["ready"]);
    expect(summary(w.state)).toBe("4 running");
    // later changes say it no more
    w.exit("worker.0", 1);
    w.advance(60_000);
    w.notify("db", "READY=1");
    expect(w.announced).toEqual(["ready"]);
  });

  it("counts an instance that failed to start as started", () => {
    const w = new FakeWorld(STACK).start();
    w.exit("db", 1);
    expect(w.state.instances.get("api#0")?.status.state).toBe("starting");
    expect(w.announced).toEqual([]);
    // the dependency fails its heartbeat deadline: the dependant is given up, and the stack is as started as it gets
    w.advance(10_000);
    w.advance(10_000);
    expect(w.announced).toEqual(["ready"]);
  });

  it("answers the watchdog timer's input with a ping, and says STOPPING once on shutdown", () => {
    const w = new FakeWorld(STACK).start();
    w.post({ type: "WatchdogDue" });
    w.post({ type: "WatchdogDue" });
    expect(w.announced).toEqual(["watchdog", "watchdog"]);
    w.post({ type: "ShutdownRequested", kill: false });
    w.post({ type: "ShutdownRequested", kill: true });
    expect(w.announced).toEqual(["watchdog", "watchdog", "stopping"]);
    expect(w.stopped).toBe(true);
    // a stopped stack is not alive: no more pings
    w.post({ type: "WatchdogDue" });
    expect(w.announced.at(-1)).toBe("stopping");
  });

  it("does not say READY while shutting down before everything started", () => {
    const w = new FakeWorld(STACK).start();
    w.post({ type: "ShutdownRequested", kill: false });
    expect(w.announced).toEqual(["stopping"]);
  });
});
