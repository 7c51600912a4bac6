import { describe, expect, it } from "vitest";
import type { RestartConfig, StopConfig } from "../../src/manifest/types.js";
import { type Effect, SERVICE_EVENT_TYPES, type ServiceEvent, type ServiceEventType } from "../../src/core/events.js";
import { type MachineContext, transition, type Transition } from "../../src/core/service-machine.js";
import { domainEvent, SUPERVISOR, type EventFields } from "../../src/core/stack/domain-events.js";
import { initialStatus, type ServiceStatus } from "../../src/core/service-state.js";
import { SERVICE_STATES, type ServiceState } from "../../src/core/types.js";
import { restartConfig, stopConfig } from "./fake-config.js";

// ---------------------------------------------------------------------------------------------------
// The complete table: every state (some in two or three shapes) × every event.

const NOW_MS = 100_000;
const CURRENT = 3;

const tableCtx: MachineContext = { nowMs: NOW_MS, random: 0.5, restart: restartConfig(), stop: stopConfig() };

const exitedEarlier = { code: 1, signal: null, reason: "exit", atMs: 90_000 } as const;

/** A representative status for each shape of each state; all of them are on incarnation 3. */
const shapes = {
  stopped: { ...initialStatus, incarnation: CURRENT, lastExit: { ...exitedEarlier, reason: "manual" }, restarts: 2 },
  exited: { ...initialStatus, state: "exited", incarnation: CURRENT, lastExit: { ...exitedEarlier, code: 0 } },
  fatal: {
    ...initialStatus,
    state: "fatal",
    incarnation: CURRENT,
    restarts: 3,
    attempt: 3,
    restartTimes: [60_000, 70_000, 80_000],
    lastExit: exitedEarlier,
  },
  "starting, spawn in flight": { ...initialStatus, state: "starting", incarnation: CURRENT, spawnInFlight: true },
  "starting, queued": { ...initialStatus, state: "starting", incarnation: CURRENT, spawnInFlight: false },
  running: { ...initialStatus, state: "running", incarnation: CURRENT, pid: 4123, startedAtMs: 99_000, attempt: 1, restartTimes: [90_000] },
  "stopping to hold": {
    ...initialStatus,
    state: "stopping",
    incarnation: CURRENT,
    pid: 4123,
    startedAtMs: 99_000,
    pending: { then: "hold", reason: "manual" },
  },
  "stopping to restart (manual)": {
    ...initialStatus,
    state: "stopping",
    incarnation: CURRENT,
    pid: 4123,
    startedAtMs: 99_000,
    pending: { then: "restart", reason: "manual" },
  },
  "stopping to restart (heartbeat)": {
    ...initialStatus,
    state: "stopping",
    incarnation: CURRENT,
    pid: 4123,
    startedAtMs: 99_000,
    pending: { then: "restart", reason: "heartbeat" },
  },
  backoff: {
    ...initialStatus,
    state: "backoff",
    incarnation: CURRENT,
    attempt: 2,
    restartTimes: [95_000, 99_000],
    nextRestartAtMs: 100_400,
    lastExit: exitedEarlier,
  },
} satisfies Record<string, ServiceStatus>;
type Shape = keyof typeof shapes;

/** One event of each type; answers about a child carry the current incarnation. */
const events: { readonly [T in ServiceEventType]: Extract<ServiceEvent, { type: T }> } = {
  Queued: { type: "Queued" },
  StartRequested: { type: "StartRequested" },
  StopRequested: { type: "StopRequested", reason: "manual" },
  RestartRequested: { type: "RestartRequested", reason: "manual" },
  FailureDetected: { type: "FailureDetected", reason: "heartbeat", detail: "no beat for 15s" },
  StartAbandoned: { type: "StartAbandoned", detail: "db did not become healthy" },
  KillRequested: { type: "KillRequested" },
  Spawned: { type: "Spawned", incarnation: CURRENT, pid: 4242 },
  SpawnFailed: { type: "SpawnFailed", incarnation: CURRENT, error: "spawn node ENOENT" },
  ChildExited: { type: "ChildExited", incarnation: CURRENT, code: 1, signal: null },
  BackoffElapsed: { type: "BackoffElapsed" },
  StopTimedOut: { type: "StopTimedOut" },
};

/** Effects written compactly: "Spawn", "Signal SIGTERM", "StartTimer stop", "Note failure", … */
function show(effect: Effect): string {
  switch (effect.type) {
    case "Spawn":
    case "KillTree":
      return effect.type;
    case "Signal":
      return `Signal ${effect.signal}`;
    case "StartTimer":
    case "CancelTimer":
      return `${effect.type} ${effect.timer}`;
    case "Note":
      return `Note ${effect.note.kind}`;
  }
}

type Row = readonly [Shape, ServiceEventType, ServiceState, readonly string[]];

const stopChild = ["Signal SIGTERM", "StartTimer stop"];
const scheduleRestart = ["Note restart-scheduled", "StartTimer backoff"];
const idle = (shape: Shape): Row[] => [
  [shape, "Queued", "starting", []],
  [shape, "StartRequested", "starting", ["Spawn"]],
  [shape, "StopRequested", "stopped", []],
  [shape, "RestartRequested", "starting", ["Spawn"]],
  [shape, "FailureDetected", shapes[shape].state, []],
  [shape, "StartAbandoned", shapes[shape].state, []],
  [shape, "KillRequested", shapes[shape].state, []],
  [shape, "Spawned", shapes[shape].state, []],
  [shape, "SpawnFailed", shapes[shape].state, []],
  [shape, "ChildExited", shapes[shape].state, []],
  [shape, "BackoffElapsed", shapes[shape].state, []],
  [shape, "StopTimedOut", shapes[shape].state, []],
];

// prettier-ignore
const table: readonly Row[] = [
  ...idle("stopped"),
  ...idle("exited"),
  ...idle("fatal"),

  ["starting, spawn in flight", "Queued",           "starting", []],
  ["starting, spawn in flight", "StartRequested",   "starting", []],
  ["starting, spawn in flight", "StopRequested",    "starting", []],          // remembered: stop once spawned
  ["starting, spawn in flight", "RestartRequested", "starting", []],          // remembered: restart once spawned
  ["starting, spawn in flight", "FailureDetected",  "starting", []],
  ["starting, spawn in flight", "StartAbandoned",   "starting", []],
  ["starting, spawn in flight", "KillRequested",    "starting", []],
  ["starting, spawn in flight", "Spawned",          "running",  ["Note spawned"]],
  ["starting, spawn in flight", "SpawnFailed",      "backoff",  ["Note spawn-failed", ...scheduleRestart]],
  ["starting, spawn in flight", "ChildExited",      "starting", []],
  ["starting, spawn in flight", "BackoffElapsed",   "starting", []],
  ["starting, spawn in flight", "StopTimedOut",     "starting", []],

  ["starting, queued", "Queued",           "starting", []],
  ["starting, queued", "StartRequested",   "starting", ["Spawn"]],
  ["starting, queued", "StopRequested",    "stopped",  []],
  ["starting, queued", "RestartRequested", "starting", ["Spawn"]],
  ["starting, queued", "FailureDetected",  "starting", []],
  ["starting, queued", "StartAbandoned",   "fatal",    ["Note start-abandoned"]],
  ["starting, queued", "KillRequested",    "starting", []],
  ["starting, queued", "Spawned",          "starting", []],                   // no spawn was asked for
  ["starting, queued", "SpawnFailed",      "starting", []],                   // no spawn was asked for
  ["starting, queued", "ChildExited",      "starting", []],
  ["starting, queued", "BackoffElapsed",   "starting", []],
  ["starting, queued", "StopTimedOut",     "starting", []],

  ["running", "Queued",           "running",  []],
  ["running", "StartRequested",   "running",  []],
  ["running", "StopRequested",    "stopping", stopChild],
  ["running", "RestartRequested", "stopping", stopChild],
  ["running", "FailureDetected",  "stopping", ["Note failure", ...stopChild]],
  ["running", "StartAbandoned",   "running",  []],
  ["running", "KillRequested",    "stopping", [...stopChild, "KillTree"]],
  ["running", "Spawned",          "running",  []],
  ["running", "SpawnFailed",      "running",  []],
  ["running", "ChildExited",      "backoff",  ["Note exit", ...scheduleRestart]],
  ["running", "BackoffElapsed",   "running",  []],
  ["running", "StopTimedOut",     "running",  []],

  ["stopping to hold", "Queued",           "stopping", []],
  ["stopping to hold", "StartRequested",   "stopping", []],                   // now restarts once gone
  ["stopping to hold", "StopRequested",    "stopping", []],
  ["stopping to hold", "RestartRequested", "stopping", []],                   // now restarts once gone
  ["stopping to hold", "FailureDetected",  "stopping", []],
  ["stopping to hold", "StartAbandoned",   "stopping", []],
  ["stopping to hold", "KillRequested",    "stopping", ["KillTree"]],
  ["stopping to hold", "Spawned",          "stopping", []],
  ["stopping to hold", "SpawnFailed",      "stopping", []],
  ["stopping to hold", "ChildExited",      "stopped",  ["CancelTimer stop", "Note exit"]],
  ["stopping to hold", "BackoffElapsed",   "stopping", []],
  ["stopping to hold", "StopTimedOut",     "stopping", ["KillTree", "Note stop-timeout"]],

  ["stopping to restart (manual)", "Queued",           "stopping", []],
  ["stopping to restart (manual)", "StartRequested",   "stopping", []],
  ["stopping to restart (manual)", "StopRequested",    "stopping", []],       // now holds once gone
  ["stopping to restart (manual)", "RestartRequested", "stopping", []],
  ["stopping to restart (manual)", "FailureDetected",  "stopping", []],
  ["stopping to restart (manual)", "StartAbandoned",   "stopping", []],
  ["stopping to restart (manual)", "KillRequested",    "stopping", ["KillTree"]],
  ["stopping to restart (manual)", "Spawned",          "stopping", []],
  ["stopping to restart (manual)", "SpawnFailed",      "stopping", []],
  ["stopping to restart (manual)", "ChildExited",      "starting", ["CancelTimer stop", "Note exit", "Spawn"]],
  ["stopping to restart (manual)", "BackoffElapsed",   "stopping", []],
  ["stopping to restart (manual)", "StopTimedOut",     "stopping", ["KillTree", "Note stop-timeout"]],

  ["stopping to restart (heartbeat)", "Queued",           "stopping", []],
  ["stopping to restart (heartbeat)", "StartRequested",   "stopping", []],
  ["stopping to restart (heartbeat)", "StopRequested",    "stopping", []],    // now holds once gone
  ["stopping to restart (heartbeat)", "RestartRequested", "stopping", []],    // now a manual restart
  ["stopping to restart (heartbeat)", "FailureDetected",  "stopping", []],
  ["stopping to restart (heartbeat)", "StartAbandoned",   "stopping", []],
  ["stopping to restart (heartbeat)", "KillRequested",    "stopping", ["KillTree"]],
  ["stopping to restart (heartbeat)", "Spawned",          "stopping", []],
  ["stopping to restart (heartbeat)", "SpawnFailed",      "stopping", []],
  ["stopping to restart (heartbeat)", "ChildExited",      "backoff",  ["CancelTimer stop", "Note exit", ...scheduleRestart]],
  ["stopping to restart (heartbeat)", "BackoffElapsed",   "stopping", []],
  ["stopping to restart (heartbeat)", "StopTimedOut",     "stopping", ["KillTree", "Note stop-timeout"]],

  ["backoff", "Queued",           "backoff",  []],
  ["backoff", "StartRequested",   "starting", ["CancelTimer backoff", "Spawn"]],
  ["backoff", "StopRequested",    "stopped",  ["CancelTimer backoff"]],
  ["backoff", "RestartRequested", "starting", ["CancelTimer backoff", "Spawn"]],
  ["backoff", "FailureDetected",  "backoff",  []],
  ["backoff", "StartAbandoned",   "backoff",  []],
  ["backoff", "KillRequested",    "backoff",  []],
  ["backoff", "Spawned",          "backoff",  []],
  ["backoff", "SpawnFailed",      "backoff",  []],
  ["backoff", "ChildExited",      "backoff",  []],
  ["backoff", "BackoffElapsed",   "starting", ["Spawn"]],
  ["backoff", "StopTimedOut",     "backoff",  []],
];

describe("the transition table", () => {
  it("has a row for every state and every event", () => {
    const missing: string[] = [];
    for (const state of SERVICE_STATES) {
      const stateShapes = (Object.keys(shapes) as Shape[]).filter((k) => shapes[k].state === state);
      if (stateShapes.length === 0) missing.push(`${state} (no representative status)`);
      for (const shape of stateShapes) {
        for (const type of SERVICE_EVENT_TYPES) {
          const rows = table.filter(([s, t]) => s === shape && t === type);
          if (rows.length !== 1) missing.push(`${shape} × ${type}: ${rows.length} rows`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it.each(table)("%s × %s → %s %j", (shape, type, state, effects) => {
    const t = transition(shapes[shape], events[type], tableCtx);
    expect(t.status.state).toBe(state);
    expect(t.effects.map(show)).toEqual(effects);
  });

  it("leaves the status untouched (the same object) in every cell that has no effect and no state change", () => {
    // Queued and the requests that only record a pending wish change the status without changing its state
    const recordsAWish = (shape: Shape, type: ServiceEventType): boolean =>
      type === "Queued" ||
      (shapes[shape].state === "stopping" && ["StartRequested", "StopRequested", "RestartRequested"].includes(type)) ||
      (shape === "starting, spawn in flight" && ["StopRequested", "RestartRequested"].includes(type)) ||
      (shapes[shape].state !== "starting" && shapes[shape].state !== "stopping" && type === "StopRequested");
    for (const [shape, type, state, effects] of table) {
      if (state !== shapes[shape].state || effects.length > 0 || recordsAWish(shape, type)) continue;
      expect(transition(shapes[shape], events[type], tableCtx).status, `${shape} × ${type}`).toBe(shapes[shape]);
    }
  });
});

describe("answers about an earlier or unknown incarnation", () => {
  const staleEvents: Extract<ServiceEvent, { incarnation: number }>[] = [
    { type: "Spawned", incarnation: CURRENT - 1, pid: 999 },
    { type: "SpawnFailed", incarnation: CURRENT - 1, error: "ENOENT" },
    { type: "ChildExited", incarnation: CURRENT - 1, code: 1, signal: null },
    { type: "ChildExited", incarnation: CURRENT + 1, code: 1, signal: null },
  ];
  const cases = (Object.keys(shapes) as Shape[]).flatMap((shape) => staleEvents.map((e) => [shape, e.type, e.incarnation, e] as const));

  it.each(cases)("are ignored while %s: %s of incarnation %i", (shape, _type, _incarnation, event) => {
    const t = transition(shapes[shape], event, tableCtx);
    expect(t.status).toBe(shapes[shape]);
    expect(t.effects).toEqual([]);
  });
});

describe("what a cell records", () => {
  it("remembers a stop asked for while the spawn is in flight and carries it out once spawned", () => {
    const waiting = transition(shapes["starting, spawn in flight"], events.StopRequested, tableCtx).status;
    expect(waiting.pending).toEqual({ then: "hold", reason: "manual" });
    const t = transition(waiting, events.Spawned, tableCtx);
    expect(t.status).toMatchObject({ state: "stopping", pid: 4242, pending: { then: "hold", reason: "manual" } });
    expect(t.effects.map(show)).toEqual(["Note spawned", "Signal SIGTERM", "StartTimer stop"]);
  });

  it("holds a service down when its spawn fails after a stop was asked for", () => {
    const waiting = transition(shapes["starting, spawn in flight"], events.StopRequested, tableCtx).status;
    const t = transition(waiting, events.SpawnFailed, tableCtx);
    expect(t.status).toMatchObject({ state: "stopped", pending: null, lastExit: { error: "spawn node ENOENT" } });
    expect(t.effects.map(show)).toEqual(["Note spawn-failed"]);
  });

  it("records the pid, the start time and the end of the spawn on Spawned", () => {
    const t = transition(shapes["starting, spawn in flight"], events.Spawned, tableCtx);
    expect(t.status).toMatchObject({ state: "running", pid: 4242, startedAtMs: NOW_MS, spawnInFlight: false });
  });

  it("gives every spawn a new incarnation and puts it in the Spawn effect", () => {
    const t = transition(shapes.stopped, events.StartRequested, tableCtx);
    expect(t.status).toMatchObject({ incarnation: CURRENT + 1, spawnInFlight: true, pid: null });
    expect(t.effects).toEqual([{ type: "Spawn", incarnation: CURRENT + 1 }]);
  });

  it("signals with the configured stop signal and times the stop with the configured timeout", () => {
    const ctx = { ...tableCtx, stop: stopConfig({ signal: "SIGINT", timeoutMs: 3000 }) };
    const t = transition(shapes.running, events.StopRequested, ctx);
    expect(t.effects).toEqual([
      { type: "Signal", signal: "SIGINT" },
      { type: "StartTimer", timer: "stop", delayMs: 3000 },
    ]);
  });

  it("lets a stop win over a pending restart, and a manual restart or start win over a pending stop", () => {
    expect(transition(shapes["stopping to restart (heartbeat)"], events.StopRequested, tableCtx).status.pending).toEqual({
      then: "hold",
      reason: "manual",
    });
    expect(transition(shapes["stopping to hold"], events.RestartRequested, tableCtx).status.pending).toEqual({
      then: "restart",
      reason: "manual",
    });
    expect(transition(shapes["stopping to hold"], events.StartRequested, tableCtx).status.pending).toEqual({
      then: "restart",
      reason: "manual",
    });
  });

  it("keeps the reason of a stop by an edit when the service is started again before it is gone (removed and added back)", () => {
    const byEdit = { ...shapes["stopping to hold"], pending: { then: "hold", reason: "config" } } as const;
    expect(transition(byEdit, events.StartRequested, tableCtx).status.pending).toEqual({ then: "restart", reason: "config" });
  });

  it("says a failure stops the child for good under restart policy never, and restarts it otherwise", () => {
    const never = transition(shapes.running, events.FailureDetected, { ...tableCtx, restart: restartConfig({ policy: "never" }) });
    const onFailure = transition(shapes.running, events.FailureDetected, tableCtx);
    const failure = (t: Transition): unknown => t.effects.flatMap((e) => (e.type === "Note" && e.note.kind === "failure" ? [e.note.fields] : []))[0];
    expect(failure(never)).toMatchObject({ reason: "heartbeat", restarts: false });
    expect(failure(onFailure)).not.toHaveProperty("restarts");
    const describe = (fields: EventFields["failure"]) => domainEvent("failure", SUPERVISOR, fields, 0).message;
    expect(describe({ reason: "heartbeat", detail: "no beat for 15s", restarts: false })).toBe("heartbeat: no beat for 15s; stopping it (restart policy never)");
    expect(describe({ reason: "heartbeat", detail: "no beat for 15s" })).toBe("heartbeat: no beat for 15s; restarting");
  });

  it("does not let a config restart undo a person's stop", () => {
    const t = transition(shapes["stopping to hold"], { type: "RestartRequested", reason: "config" }, tableCtx);
    expect(t.status).toBe(shapes["stopping to hold"]);
  });

  it("ignores a restart for a failure reason once the service has ended", () => {
    const t = transition(shapes.exited, { type: "RestartRequested", reason: "heartbeat" }, tableCtx);
    expect(t.status).toBe(shapes.exited);
    expect(t.effects).toEqual([]);
  });

  it("clears the next restart time when a stop cancels the backoff", () => {
    expect(transition(shapes.backoff, events.StopRequested, tableCtx).status.nextRestartAtMs).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------
// Scenarios: a fake clock and the runtime's answers, played one event at a time.

interface Step {
  readonly atMs: number;
  readonly event: ServiceEvent;
  readonly state: ServiceState;
  readonly effects: readonly Effect[];
}

/** Plays events against the machine as the runtime would, advancing a fake monotonic clock. */
function machine(restart: RestartConfig, options: { stop?: StopConfig; random?: number; status?: ServiceStatus } = {}) {
  let nowMs = 0;
  let status = options.status ?? initialStatus;
  const steps: Step[] = [];
  const send = (event: ServiceEvent): readonly Effect[] => {
    const t = transition(status, event, { nowMs, random: options.random ?? 0.5, restart, stop: options.stop ?? stopConfig() });
    status = t.status;
    steps.push({ atMs: nowMs, event, state: status.state, effects: t.effects });
    return t.effects;
  };
  const m = {
    get status() {
      return status;
    },
    get nowMs() {
      return nowMs;
    },
    steps,
    advance(ms: number) {
      nowMs += ms;
      return m;
    },
    send,
    start: () => send({ type: "StartRequested" }),
    spawned: (pid = 1000 + status.incarnation) => send({ type: "Spawned", incarnation: status.incarnation, pid }),
    exited: (code: number | null, signal: string | null = null) =>
      send({ type: "ChildExited", incarnation: status.incarnation, code, signal }),
    /** the runtime's backoff timer fires after the delay the machine asked for */
    backoffElapses() {
      const timer = lastTimer("backoff");
      m.advance(timer.delayMs);
      return send({ type: "BackoffElapsed" });
    },
    effectsOfAll: () => steps.flatMap((s) => s.effects),
  };
  const lastTimer = (name: "backoff" | "stop") => {
    const timers = m.effectsOfAll().filter((e) => e.type === "StartTimer" && e.timer === name);
    const last = timers.at(-1);
    if (last?.type !== "StartTimer") throw new Error(`no ${name} timer was started`);
    return last;
  };
  return m;
}

const backoffDelays = (effects: readonly Effect[]): number[] =>
  effects.flatMap((e) => (e.type === "StartTimer" && e.timer === "backoff" ? [e.delayMs] : []));

describe("scenarios", () => {
  it("a crash loop ends fatal with growing gaps", () => {
    const m = machine(restartConfig({ policy: "always", maxRestarts: 3, backoff: { initialMs: 200, factor: 2, jitter: 0 } }));
    m.start();
    m.spawned();
    for (let failure = 1; failure <= 3; failure++) {
      m.advance(50).exited(1);
      expect(m.status.state).toBe("backoff");
      m.backoffElapses();
      m.spawned();
    }
    const last = m.advance(50).exited(1);

    expect(backoffDelays(m.effectsOfAll())).toEqual([200, 400, 800]);
    expect(m.status).toMatchObject({ state: "fatal", restarts: 3, pid: null, nextRestartAtMs: null });
    expect(last.map(show)).toEqual(["Note exit", "Note fatal"]);
    expect(last.find((e) => e.type === "Note" && e.note.kind === "fatal")).toMatchObject({ note: { fields: { restarts: 4 } } });
  });

  it("a crash loop reports when the next restart is due while it waits", () => {
    const m = machine(restartConfig({ policy: "always" }));
    m.start();
    m.spawned();
    m.advance(1000).exited(1);
    expect(m.status).toMatchObject({ state: "backoff", nextRestartAtMs: 1200, lastExit: { code: 1, reason: "exit", atMs: 1000 } });
  });

  it("on-failure with exit 0 ends exited", () => {
    const m = machine(restartConfig({ policy: "on-failure" }));
    m.start();
    m.spawned();
    const effects = m.advance(5000).exited(0);
    expect(m.status).toMatchObject({ state: "exited", pid: null, lastExit: { code: 0, signal: null, reason: "exit" } });
    expect(effects.map(show)).toEqual(["Note exit"]);
  });

  it("on-failure restarts a child killed by a signal from outside", () => {
    const m = machine(restartConfig({ policy: "on-failure" }));
    m.start();
    m.spawned();
    m.advance(5000).exited(null, "SIGKILL");
    expect(m.status).toMatchObject({ state: "backoff", lastExit: { code: null, signal: "SIGKILL", reason: "exit" } });
  });

  it("a child that ran longer than reset_after restarts at the initial delay again", () => {
    const m = machine(restartConfig({ policy: "always", backoff: { initialMs: 200, factor: 2, resetAfterMs: 60_000 } }));
    m.start();
    m.spawned();
    m.advance(100).exited(1);
    m.backoffElapses();
    m.spawned();
    m.advance(100).exited(1);
    m.backoffElapses();
    m.spawned();
    m.advance(60_000).exited(1);
    m.backoffElapses();
    m.spawned();
    m.advance(100).exited(1);
    expect(backoffDelays(m.effectsOfAll())).toEqual([200, 400, 200, 400]);
  });

  it("a stop while the child ignores SIGTERM escalates to KillTree when the stop timer fires", () => {
    const m = machine(restartConfig(), { stop: stopConfig({ signal: "SIGTERM", timeoutMs: 10_000 }) });
    m.start();
    m.spawned(4123);
    const stopping = m.advance(1000).send({ type: "StopRequested", reason: "manual" });
    expect(stopping).toContainEqual({ type: "Signal", signal: "SIGTERM" });
    expect(stopping).toContainEqual({ type: "StartTimer", timer: "stop", delayMs: 10_000 });

    const timedOut = m.advance(10_000).send({ type: "StopTimedOut" });
    expect(timedOut.map(show)).toEqual(["KillTree", "Note stop-timeout"]);
    expect(m.status).toMatchObject({ state: "stopping", pid: 4123 });

    const gone = m.advance(5).exited(null, "SIGKILL");
    expect(gone.map(show)).toEqual(["CancelTimer stop", "Note exit"]);
    expect(m.status).toMatchObject({ state: "stopped", pid: null, lastExit: { signal: "SIGKILL", reason: "manual" } });
  });

  it("a manual restart spawns right after the exit, counts a restart, and does not go through backoff", () => {
    const m = machine(restartConfig({ policy: "always" }));
    m.start();
    m.spawned();
    m.advance(100).exited(1); // one crash: attempt 1, one restart in the window
    m.backoffElapses();
    m.spawned();
    expect(m.status.restarts).toBe(1);

    m.advance(1000).send({ type: "RestartRequested", reason: "manual" });
    const afterExit = m.advance(20).exited(null, "SIGTERM");
    expect(afterExit.map(show)).toEqual(["CancelTimer stop", "Note exit", "Spawn"]);
    expect(m.status).toMatchObject({
      state: "starting",
      restarts: 2,
      attempt: 0,
      restartTimes: [],
      lastExit: { signal: "SIGTERM", reason: "manual" },
    });
    expect(m.steps.at(-1)?.effects.some((e) => e.type === "StartTimer")).toBe(false);
  });

  it("a manual restart during backoff spawns at once and forgives the crash loop", () => {
    const m = machine(restartConfig({ policy: "always" }));
    m.start();
    m.spawned();
    m.advance(100).exited(1);
    m.backoffElapses();
    m.spawned();
    m.advance(100).exited(1);
    expect(m.status).toMatchObject({ state: "backoff", attempt: 2 });

    const effects = m.advance(50).send({ type: "RestartRequested", reason: "manual" });
    expect(effects.map(show)).toEqual(["CancelTimer backoff", "Spawn"]);
    expect(m.status).toMatchObject({ state: "starting", attempt: 0, restartTimes: [], restarts: 2 });
    m.spawned();
    m.advance(100).exited(1);
    expect(backoffDelays(m.steps.at(-1)?.effects ?? [])).toEqual([200]);
  });

  it("backoff initial 0 respawns at once", () => {
    const m = machine(restartConfig({ policy: "always", backoff: { initialMs: 0, factor: 1 } }));
    m.start();
    m.spawned();
    const effects = m.advance(100).exited(1);
    expect(effects.map(show)).toEqual(["Note exit", "Note restart-scheduled", "Spawn"]);
    expect(m.status).toMatchObject({ state: "starting", restarts: 1, spawnInFlight: true, nextRestartAtMs: null });
  });

  it("a stop during backoff cancels the timer", () => {
    const m = machine(restartConfig({ policy: "always" }));
    m.start();
    m.spawned();
    m.advance(100).exited(1);
    expect(m.status.state).toBe("backoff");
    const effects = m.advance(50).send({ type: "StopRequested", reason: "manual" });
    expect(effects).toEqual([{ type: "CancelTimer", timer: "backoff" }]);
    expect(m.status).toMatchObject({ state: "stopped", nextRestartAtMs: null });
    // a timer that fired anyway, racing the cancel, changes nothing
    expect(m.send({ type: "BackoffElapsed" })).toEqual([]);
    expect(m.status.state).toBe("stopped");
  });

  it("a failure detected (heartbeat) stops with the stop signal and then restarts under the policy, with last_exit.reason heartbeat", () => {
    const m = machine(restartConfig({ policy: "on-failure" }), { stop: stopConfig({ signal: "SIGINT", timeoutMs: 5000 }) });
    m.start();
    m.spawned();
    const detected = m.advance(20_000).send({ type: "FailureDetected", reason: "heartbeat", detail: "no beat for 15s" });
    expect(detected).toEqual([
      expect.objectContaining({ type: "Note", note: { kind: "failure", fields: expect.objectContaining({ reason: "heartbeat" }) } }),
      { type: "Signal", signal: "SIGINT" },
      { type: "StartTimer", timer: "stop", delayMs: 5000 },
    ]);
    expect(m.status.pending).toEqual({ then: "restart", reason: "heartbeat" });

    // the child obeys the signal and even exits 0: on-failure still restarts, because the supervisor ended it
    const exited = m.advance(300).exited(0);
    expect(exited.map(show)).toEqual(["CancelTimer stop", "Note exit", "Note restart-scheduled", "StartTimer backoff"]);
    expect(m.status).toMatchObject({ state: "backoff", lastExit: { code: 0, reason: "heartbeat", atMs: 20_300 } });
    m.backoffElapses();
    expect(m.status).toMatchObject({ state: "starting", restarts: 1 });
  });

  it("a failure detected under policy never ends exited once the child is gone", () => {
    const m = machine(restartConfig({ policy: "never" }));
    m.start();
    m.spawned();
    m.advance(1000).send({ type: "FailureDetected", reason: "memory", detail: "rss 600MiB over 512MiB for 30s" });
    m.advance(100).exited(null, "SIGTERM");
    expect(m.status).toMatchObject({ state: "exited", lastExit: { reason: "memory" } });
  });

  it("a late exit of an old incarnation is ignored", () => {
    const m = machine(restartConfig({ policy: "always", backoff: { initialMs: 0, factor: 1 } }));
    m.start();
    m.spawned(111);
    const oldIncarnation = m.status.incarnation;
    m.advance(100).exited(1); // respawns at once
    m.spawned(222);
    const before = m.status;

    const late = m.advance(5).send({ type: "ChildExited", incarnation: oldIncarnation, code: 1, signal: null });
    expect(late).toEqual([]);
    expect(m.status).toBe(before);
    expect(m.status).toMatchObject({ state: "running", pid: 222 });
  });

  it("a spawn failure (ENOENT) is handled by the restart policy", () => {
    const m = machine(restartConfig({ policy: "on-failure" }));
    m.start();
    const effects = m.send({ type: "SpawnFailed", incarnation: m.status.incarnation, error: "spawn nodee ENOENT" });
    expect(effects.map(show)).toEqual(["Note spawn-failed", "Note restart-scheduled", "StartTimer backoff"]);
    expect(m.status).toMatchObject({
      state: "backoff",
      spawnInFlight: false,
      lastExit: { code: null, signal: null, reason: "exit", error: "spawn nodee ENOENT" },
    });
    // a command that never starts keeps backing off: it never ran, so nothing resets the step
    m.backoffElapses();
    m.send({ type: "SpawnFailed", incarnation: m.status.incarnation, error: "spawn nodee ENOENT" });
    expect(backoffDelays(m.effectsOfAll())).toEqual([200, 400]);
  });

  it("a spawn failure under policy never ends exited", () => {
    const m = machine(restartConfig({ policy: "never" }));
    m.start();
    m.send({ type: "SpawnFailed", incarnation: m.status.incarnation, error: "spawn x EACCES" });
    expect(m.status).toMatchObject({ state: "exited", lastExit: { error: "spawn x EACCES" } });
  });

  it("start of a fatal service resets the crash-loop window", () => {
    const m = machine(restartConfig({ policy: "always", maxRestarts: 1 }));
    m.start();
    m.spawned();
    m.advance(100).exited(1);
    m.backoffElapses();
    m.spawned();
    m.advance(100).exited(1);
    expect(m.status.state).toBe("fatal");

    m.advance(1000).start();
    expect(m.status).toMatchObject({ state: "starting", attempt: 0, restartTimes: [] });
    m.spawned();
    m.advance(100).exited(1);
    expect(m.status.state).toBe("backoff");
    expect(backoffDelays(m.steps.at(-1)?.effects ?? [])).toEqual([200]);
  });

  it("a fatal service queued behind its dependencies and then started also gets a fresh crash-loop window", () => {
    const m = machine(restartConfig({ policy: "always", maxRestarts: 1 }));
    m.start();
    m.spawned();
    m.advance(100).exited(1);
    m.backoffElapses();
    m.spawned();
    m.advance(100).exited(1);
    expect(m.status.state).toBe("fatal");

    m.advance(1000).send({ type: "Queued" });
    expect(m.status).toMatchObject({ state: "starting", spawnInFlight: false });
    m.advance(500).start();
    m.spawned();
    m.advance(100).exited(1);
    expect(m.status.state).toBe("backoff");
  });

  it("a stop during the spawn stops the child as soon as it has a pid", () => {
    const m = machine(restartConfig());
    m.start();
    m.send({ type: "StopRequested", reason: "manual" });
    expect(m.status.state).toBe("starting");
    const effects = m.spawned(555);
    expect(effects.map(show)).toEqual(["Note spawned", "Signal SIGTERM", "StartTimer stop"]);
    m.advance(10).exited(null, "SIGTERM");
    expect(m.status).toMatchObject({ state: "stopped", pid: null });
  });

  it("a second Ctrl-C while stopping kills the tree at once", () => {
    const m = machine(restartConfig());
    m.start();
    m.spawned();
    m.send({ type: "StopRequested", reason: "manual" });
    expect(m.advance(500).send({ type: "KillRequested" })).toEqual([{ type: "KillTree" }]);
    m.advance(5).exited(null, "SIGKILL");
    expect(m.status.state).toBe("stopped");
  });
});
