// The supervisor's behaviour through its one loop, in fake time: the real step() and Loop, a fake spawner.
import { describe, expect, it } from "vitest";
import { FakeWorld } from "../support/fake-world.js";

describe("a child whose heartbeats stop", () => {
  it("goes degraded, critical, failed, is stopped, and is spawned again after its backoff", () => {
    const w = new FakeWorld(`
version: 1
services:
  api:
    command: node api.js
    heartbeat: { via: socket, interval: 1s, misses: 3, startup_grace: 5s }
    restart: { backoff: { initial: 200ms, jitter: 0 } }
`).start();
    const first = w.child("api");
    w.beat("api", { n: 1 });
    expect(w.doc("api")).toMatchObject({ health: "healthy", beats: 1, last_beat_data: { n: 1 } });
    w.advance(1000);
    expect(w.doc("api").health).toBe("degraded");
    w.advance(1000);
    expect(w.doc("api").health).toBe("critical");
    w.advance(1000);
    expect(first.signals).toEqual(["SIGTERM"]);
    expect(w.eventsOf("failure").map((e) => e.message)).toEqual(["heartbeat: no heartbeat for 3000 ms (interval 1000 ms, misses 3); restarting"]);
    expect(w.eventsOf("health").map((e) => e.fields.health)).toEqual(["healthy", "degraded", "critical", "failed"]);
    expect(w.doc("api")).toMatchObject({ state: "backoff", last_exit: { reason: "heartbeat", signal: "SIGTERM" } });
    w.advance(199);
    expect(w.spawnsOf("api")).toHaveLength(1);
    w.advance(1);
    const second = w.child("api");
    expect(second.pid).not.toBe(first.pid);
    // the new child has said nothing yet: nothing of its predecessor's beats shows
    expect(w.doc("api")).toMatchObject({ state: "running", health: "unknown", beats: 0, last_beat_at: null, restarts: 1 });
  });

  it("ignores a beat with the token of the child before", () => {
    const w = new FakeWorld(`
version: 1
services:
  api: { command: x, heartbeat: { via: socket, interval: 1s } }
`).start();
    const old = w.child("api");
    w.command({ cmd: "restart", names: ["api"] });
    w.post({ type: "MessageReceived", message: { ok: true, message: { type: "beat", service: "api", token: old.token, data: undefined, text: undefined } } });
    expect(w.doc("api")).toMatchObject({ beats: 0, rejected_messages: 1 });
    expect(w.state.rejectedTotal).toBe(1);
  });
});

describe("a child that never beats", () => {
  it("is unknown through its startup grace, then failed and restarted with reason heartbeat", () => {
    const w = new FakeWorld(`
version: 1
services:
  mute:
    command: x
    heartbeat: { via: socket, interval: 100ms, misses: 2, startup_grace: 600ms }
    restart: { policy: on-failure, max_restarts: 0 }
`).start();
    w.advance(599);
    expect(w.doc("mute")).toMatchObject({ state: "running", health: "unknown" });
    w.advance(1);
    expect(w.doc("mute")).toMatchObject({ state: "fatal", last_exit: { reason: "heartbeat" } });
    expect(w.eventsOf("failure")[0]!.message).toBe("heartbeat: no heartbeat since the start (startup_grace 600 ms, interval 100 ms); restarting");
  });
});

describe("a crash loop", () => {
  it("backs off 200, 400, 800 ms and is declared fatal past max_restarts", () => {
    const w = new FakeWorld(`
version: 1
services:
  crasher:
    command: x
    restart: { policy: always, backoff: { initial: 200ms, factor: 2, jitter: 0 }, max_restarts: 3, window: 1m }
`).start();
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      w.exit("crasher", 1);
      delays.push(w.eventsOf("restart-scheduled").at(-1)!.fields.delayMs);
      w.advance(delays.at(-1)!);
    }
    w.exit("crasher", 1);
    expect(delays).toEqual([200, 400, 800]);
    expect(w.doc("crasher")).toMatchObject({ state: "fatal", restarts: 3 });
    expect(w.eventsOf("fatal")[0]!.message).toBe("crash loop: 4 restarts within 1m (max_restarts 3); giving up, state fatal");
  });
});

describe("stopping", () => {
  it("kills the job of a child that ignores its stop signal once stop.timeout is over", () => {
    const w = new FakeWorld(`
version: 1
services:
  stubborn: { command: x, stop: { timeout: 3s } }
`, { obeysStop: false }).start();
    const child = w.child("stubborn");
    w.command({ cmd: "stop", names: ["stubborn"] });
    expect(w.doc("stubborn").state).toBe("stopping");
    w.advance(2999);
    expect(child.signals).toEqual(["SIGTERM"]);
    w.advance(1);
    expect(child.signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(w.doc("stubborn")).toMatchObject({ state: "stopped", last_exit: { reason: "manual", signal: "SIGKILL" } });
    expect(w.eventsOf("stop-timeout")).toHaveLength(1);
  });

  it("shuts down dependants before what they depend on, and answers down once all is stopped", () => {
    const w = new FakeWorld(`
version: 1
services:
  web: { command: x, depends_on: [api] }
  api: { command: x, depends_on: [db], stop: { timeout: 5s } }
  db: { command: x }
`, { obeysStop: false }).start();
    expect(w.command({ cmd: "down" })).toBeUndefined();
    expect(w.child("web").signals).toEqual(["SIGTERM"]);
    expect(w.child("api").signals).toEqual([]);
    w.exit("web", 0);
    expect(w.child("api").signals).toEqual(["SIGTERM"]);
    expect(w.child("db").signals).toEqual([]);
    w.advance(5000);
    expect(w.child("db").signals).toEqual(["SIGTERM"]);
    expect(w.stopped).toBe(false);
    w.exit("db", 0);
    expect(w.stopped).toBe(true);
    expect(w.eventsOf("down")).toHaveLength(1);
  });
});

describe("dependency gating", () => {
  it("starts a dependant once its dependency is healthy, and not before", () => {
    const w = new FakeWorld(`
version: 1
services:
  app: { command: x, depends_on: { db: healthy } }
  db: { command: x, heartbeat: { via: socket, interval: 1s, startup_grace: 10s } }
`).start();
    expect(w.spawnsOf("app")).toHaveLength(0);
    expect(w.doc("app")).toMatchObject({ state: "starting", waiting_for: ["db"] });
    w.say("db", { type: "ready" });
    expect(w.spawnsOf("app")).toHaveLength(1);
  });

  it("gives up a dependant whose dependency fails its startup grace", () => {
    const w = new FakeWorld(`
version: 1
services:
  app: { command: x, depends_on: { db: healthy } }
  db: { command: x, heartbeat: { via: socket, interval: 1s, misses: 2, startup_grace: 3s } }
`).start();
    w.advance(3000);
    expect(w.doc("app").state).toBe("fatal");
    expect(w.eventsOf("start-abandoned")[0]!.message).toMatch(/^not started: db did not become healthy \(no heartbeat since the start/);
  });
});

describe("an old incarnation", () => {
  it("cannot touch the child after it: a late exit and a late timer are ignored", () => {
    const w = new FakeWorld(`
version: 1
services:
  api: { command: x, heartbeat: { via: socket, interval: 1s, misses: 3, startup_grace: 3s } }
`).start();
    const first = w.child("api");
    w.command({ cmd: "restart", names: ["api"] });
    const second = w.child("api");
    // an exit reported for the first child again, and its heartbeat timer: news of nothing
    w.post({ type: "ChildExited", id: first.id, incarnation: first.incarnation, code: 1, signal: null });
    w.post({ type: "TimerFired", key: { id: first.id, incarnation: first.incarnation, kind: "heartbeat" } });
    expect(w.doc("api")).toMatchObject({ state: "running", pid: second.pid });
    expect(w.eventsOf("failure")).toHaveLength(0);
  });
});

describe("a reload", () => {
  const BEFORE = `
version: 1
services:
  a: { command: sleep 1 }
  b: { command: sleep 2 }
  c: { command: sleep 3 }
`;

  it("restarts the changed, updates in place, removes and adds exactly what the plan says", () => {
    const w = new FakeWorld(BEFORE).start();
    const [a, b, c] = [w.child("a"), w.child("b"), w.child("c")];
    const answer = w.reload(`
version: 1
services:
  a: { command: sleep 11 }
  b: { command: sleep 2, restart: { policy: always } }
  d: { command: sleep 4, depends_on: [b] }
`);
    expect(answer).toMatchObject({ ok: true, data: { generation: 2 } });
    expect(a.signals).toEqual(["SIGTERM"]);
    expect(w.child("a").spec.argv).toEqual(["sleep", "11"]);
    expect(w.doc("a").last_exit?.reason).toBe("config");
    expect(b.signals).toEqual([]);
    expect(w.child("b").pid).toBe(b.pid);
    expect(c.signals).toEqual(["SIGTERM"]);
    expect(() => w.instance("c")).toThrow(/no instance c/);
    expect(w.forgotten).toEqual(["c#0"]);
    expect(w.child("d").spec.argv).toEqual(["sleep", "4"]);
    expect(w.eventsOf("config-applied")[0]!.fields.changes).toEqual([
      "c: stop (removed)",
      "a: restart (command)",
      "b: updated in place (restart.policy)",
      "d: start (added)",
    ]);
  });

  it("keeps the running generation on a bad edit, says so once, and answers with the error", () => {
    const w = new FakeWorld(BEFORE).start();
    w.command({ cmd: "reload" });
    w.post({ type: "ManifestRejected", error: "supervisor.yaml:3:3: bad", replyTo: null });
    w.post({ type: "ManifestRejected", error: "supervisor.yaml:3:3: bad", replyTo: null });
    expect(w.state.configError).toBe("supervisor.yaml:3:3: bad");
    expect(w.eventsOf("config-rejected")).toHaveLength(1);
    expect(w.state.generation).toBe(1);
  });

  it("scales a service whose replicas changed, keeping the instances that stay", () => {
    const w = new FakeWorld(`
version: 1
services:
  web: { command: x, replicas: 2 }
`).start();
    const [first, second] = [w.child("web.0"), w.child("web.1")];
    w.reload(`
version: 1
services:
  web: { command: x, replicas: 4 }
`);
    expect(["web.0", "web.1", "web.2", "web.3"].map((n) => w.child(n).spec.env["VIGIL_INSTANCE"])).toEqual(["0", "1", "2", "3"]);
    expect(w.child("web.0").pid).toBe(first.pid);
    expect(w.child("web.3").spec.env["VIGIL_REPLICAS"]).toBe("4");
    w.reload(`
version: 1
services:
  web: { command: x, replicas: 1 }
`);
    expect(w.child("web").pid).toBe(first.pid);
    expect(second.alive).toBe(false);
    expect(w.state.instances.size).toBe(1);
  });
});

describe("replicas", () => {
  it("gives each instance its own child, and a scale down stops the highest first", () => {
    const w = new FakeWorld(`
version: 1
services:
  web: { command: x, replicas: 3, stop: { timeout: 5s } }
`, { obeysStop: false }).start();
    expect([0, 1, 2].map((i) => w.child(`web.${i}`).spec.name)).toEqual(["web.0", "web.1", "web.2"]);
    expect(w.command({ cmd: "scale", service: "web", replicas: 2 })).toEqual({ ok: true, data: { service: "web", from: 3, to: 2 } });
    expect(w.child("web.2").signals).toEqual(["SIGTERM"]);
    expect(w.child("web.1").signals).toEqual([]);
    w.exit("web.2", 0);
    expect(w.state.instances.size).toBe(2);
    expect(w.command({ cmd: "scale", service: "nope", replicas: 2 })).toMatchObject({ ok: false, code: "unknown-service" });
  });

  it("takes a command for one instance or for the whole service", () => {
    const w = new FakeWorld(`
version: 1
services:
  web: { command: x, replicas: 2 }
`).start();
    const [zero, one] = [w.child("web.0"), w.child("web.1")];
    w.command({ cmd: "restart", names: ["web.1"] });
    expect([zero.alive, one.alive]).toEqual([true, false]);
    w.command({ cmd: "stop", names: ["web"] });
    expect(w.doc("web.0").state).toBe("stopped");
    expect(w.doc("web.1").state).toBe("stopped");
    expect(w.command({ cmd: "start", names: ["web.7"] })).toMatchObject({ ok: false, error: 'unknown service web.7, did you mean "web.0"? (known: web, web.0, web.1)' });
  });

  it("holds a dependant until every instance of its dependency runs", () => {
    const w = new FakeWorld(`
version: 1
services:
  app: { command: x, depends_on: { web: healthy } }
  web: { command: x, replicas: 2, heartbeat: { via: socket, interval: 1s, startup_grace: 10s } }
`).start();
    w.say("web.0", { type: "ready" });
    expect(w.spawnsOf("app")).toHaveLength(0);
    w.say("web.1", { type: "ready" });
    expect(w.spawnsOf("app")).toHaveLength(1);
  });
});

describe("output, limits and probes", () => {
  it("restarts a child whose output goes stale, and not one that keeps writing", () => {
    const w = new FakeWorld(`
version: 1
services:
  quiet: { command: x, logs: { stale_after: 2s }, restart: { backoff: { initial: 0 } } }
`).start();
    for (let i = 0; i < 5; i++) w.advance(1500).output("quiet");
    expect(w.spawnsOf("quiet")).toHaveLength(1);
    w.advance(2000);
    expect(w.doc("quiet")).toMatchObject({ restarts: 1, last_exit: { reason: "log-stale" } });
    expect(w.eventsOf("failure")[0]!.message).toBe("log-stale: no output for 2s; restarting");
  });

  it("restarts a child over its memory limit on every sample for `for`, and not for one spike", () => {
    const w = new FakeWorld(`
version: 1
services:
  hog: { command: x, limits: { memory: 100MB, for: 4s }, restart: { backoff: { initial: 0 } } }
`).start();
    w.sample("hog", { rssBytes: 200e6 }).advance(2000).sample("hog", { rssBytes: 50e6 }).advance(2000).sample("hog", { rssBytes: 200e6 });
    expect(w.spawnsOf("hog")).toHaveLength(1);
    w.advance(2000).sample("hog", { rssBytes: 200e6 }).advance(2000).sample("hog", { rssBytes: 200e6 });
    expect(w.doc("hog")).toMatchObject({ restarts: 1, last_exit: { reason: "memory" } });
    expect(w.eventsOf("limit-breach")).toHaveLength(1);
  });

  it("runs a liveness probe after its delay, then every interval, and restarts after `failures` in a row", () => {
    const w = new FakeWorld(`
version: 1
services:
  web:
    command: x
    probes: { liveness: { http: "http://127.0.0.1:1/", initial_delay: 1s, interval: 2s, failures: 2 } }
    restart: { backoff: { initial: 0 } }
`).start();
    expect(w.probes).toHaveLength(0);
    w.advance(1000);
    expect(w.probes).toHaveLength(1);
    w.probeResult("web", "liveness", true).advance(2000).probeResult("web", "liveness", false);
    expect(w.spawnsOf("web")).toHaveLength(1);
    w.advance(2000).probeResult("web", "liveness", false);
    expect(w.doc("web")).toMatchObject({ restarts: 1, last_exit: { reason: "probe" } });
    // the new child's probe starts over, after its delay
    expect(w.doc("web").probes).toMatchObject({ liveness: { status: "unknown", checks: 0 } });
  });

  it("holds a dependant until a readiness probe passes, and marks the service critical while it fails", () => {
    const w = new FakeWorld(`
version: 1
services:
  app: { command: x, depends_on: { db: healthy } }
  db: { command: x, probes: { readiness: { tcp: "127.0.0.1:5432", interval: 1s, failures: 1 } } }
`).start();
    w.advance(0).probeResult("db", "readiness", false);
    expect(w.doc("db").health).toBe("critical");
    expect(w.spawnsOf("app")).toHaveLength(0);
    w.advance(1000).probeResult("db", "readiness", true);
    expect(w.doc("db").health).toBe("healthy");
    expect(w.spawnsOf("app")).toHaveLength(1);
  });
});

describe("a dependency that restarts", () => {
  it("leaves its running dependants alone, and a dependant added meanwhile waits until it runs again", () => {
    const manifest = (extra: string) => `
version: 1
services:
  app: { command: x, depends_on: { db: started } }
  db: { command: x, restart: { backoff: { initial: 1s, jitter: 0 } } }
${extra}`;
    const w = new FakeWorld(manifest("")).start();
    const app = w.child("app");
    w.exit("db", 1);
    expect(w.doc("db").state).toBe("backoff");
    w.reload(manifest("  late: { command: y, depends_on: { db: started } }"));
    expect(w.doc("late")).toMatchObject({ state: "starting", waiting_for: ["db"] });
    expect(w.spawnsOf("late")).toHaveLength(0);
    w.advance(1000);
    expect(w.spawnsOf("db")).toHaveLength(2);
    expect(w.spawnsOf("late")).toHaveLength(1);
    expect(w.child("app").pid).toBe(app.pid);
  });
});

describe("the order of a step's effects", () => {
  it("spawns a child restarted at once before it publishes the events of the exit, which keep their order", () => {
    const w = new FakeWorld(`
version: 1
services:
  flapper:
    command: x
    restart: { policy: always, backoff: { initial: 0, jitter: 0 }, max_restarts: 100, window: 1s }
`).start();
    const first = w.child("flapper");
    w.calls.length = 0;
    const eventsBefore = w.events.length;
    w.exit("flapper", 1);
    const second = w.child("flapper");
    expect(second.pid).not.toBe(first.pid);
    // the exit's events come after the spawn, then the new child's, each in the order the step made them
    const spawnAt = w.calls.indexOf(`spawn ${second.pid}`);
    expect(spawnAt).toBeGreaterThanOrEqual(0);
    expect(w.calls.slice(0, spawnAt).filter((c) => c.startsWith("event"))).toEqual([]);
    const kinds = w.events.slice(eventsBefore).map((e) => e.kind);
    expect(kinds.indexOf("exit")).toBeLessThan(kinds.indexOf("spawned"));
    expect(w.calls.slice(spawnAt + 1)).toEqual(kinds.map((k) => `event ${k}`));
    expect(w.events.slice(eventsBefore).map((e) => e.fields)).toContainEqual(expect.objectContaining({ pid: second.pid }));
  });

  it("keeps every other effect in the step's order: a stop signals, publishes, then answers", () => {
    const w = new FakeWorld(`
version: 1
services:
  api: { command: x }
`).start();
    w.calls.length = 0;
    w.command({ cmd: "stop", names: ["api"] });
    // an event is held back past a spawn only: before the answer, it is published first
    expect(w.calls.slice(0, 3)).toEqual(["signal SIGTERM", "event state", "reply"]);
  });
});
