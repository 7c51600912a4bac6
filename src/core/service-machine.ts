import type { RestartConfig, StopConfig } from "../manifest/types.js";
import type { Effect, Note, ServiceEvent } from "./events.js";
import { decideRestart } from "./restart-decision.js";
import type { PendingStop, ServiceStatus } from "./service-state.js";
import type { ExitInfo } from "./types.js";

export interface MachineContext {
  readonly nowMs: number;
  /** a uniform draw in [0, 1) for backoff jitter */
  readonly random: number;
  readonly restart: RestartConfig;
  readonly stop: StopConfig;
}

export interface Transition {
  readonly status: ServiceStatus;
  readonly effects: readonly Effect[];
}

const stay = (status: ServiceStatus): Transition => ({ status, effects: [] });

/**
 * The whole life of one service: a switch on the state, then on the event. Every cell is decided;
 * the compiler checks that none is missing.
 */
export function transition(s: ServiceStatus, e: ServiceEvent, ctx: MachineContext): Transition {
  // A late answer about an earlier child is never news about the current one.
  if ((e.type === "Spawned" || e.type === "SpawnFailed" || e.type === "ChildExited") && e.incarnation !== s.incarnation) {
    return stay(s);
  }
  switch (s.state) {
    case "stopped":
    case "exited":
    case "fatal":
      return fromIdle(s, e, ctx);
    case "starting":
      return fromStarting(s, e, ctx);
    case "running":
      return fromRunning(s, e, ctx);
    case "stopping":
      return fromStopping(s, e, ctx);
    case "backoff":
      return fromBackoff(s, e, ctx);
    default:
      return assertNever(s.state);
  }
}

function fromIdle(s: ServiceStatus, e: ServiceEvent, ctx: MachineContext): Transition {
  switch (e.type) {
    case "Queued":
      // a fresh start, like StartRequested: the crash-loop window and backoff begin anew
      return stay({ ...s, state: "starting", spawnInFlight: false, attempt: 0, restartTimes: [] });
    case "StartRequested":
      return spawn({ ...s, attempt: 0, restartTimes: [] }, false);
    case "RestartRequested":
      // a person may restart what has ended; a late failure report about it means nothing; a file change
      // restarts what ended or crashed (the fix may be what changed), never what a person stopped
      if (e.reason === "manual" || e.reason === "config" || (e.reason === "watch" && s.state !== "stopped")) {
        return spawn({ ...s, attempt: 0, restartTimes: [] }, true);
      }
      return stay(s);
    case "StopRequested":
      return stay({ ...s, state: "stopped" });
    case "FailureDetected":
    case "StartAbandoned":
    case "KillRequested":
    case "Spawned":
    case "SpawnFailed":
    case "ChildExited":
    case "BackoffElapsed":
    case "StopTimedOut":
      return stay(s);
    default:
      return assertNever(e);
  }
}

function fromStarting(s: ServiceStatus, e: ServiceEvent, ctx: MachineContext): Transition {
  switch (e.type) {
    case "Queued":
      return stay(s);
    case "StartRequested":
      return s.spawnInFlight ? stay(s) : spawn(s, false);
    case "RestartRequested":
      if (s.spawnInFlight) return stay({ ...s, pending: { then: "restart", reason: e.reason } });
      return spawn(s, false);
    case "StopRequested":
      if (s.spawnInFlight) return stay({ ...s, pending: { then: "hold", reason: e.reason } });
      return stay({ ...s, state: "stopped" });
    case "StartAbandoned":
      if (s.spawnInFlight) return stay(s);
      return { status: { ...s, state: "fatal" }, effects: [note({ kind: "start-abandoned", fields: { detail: e.detail } })] };
    case "FailureDetected":
    case "KillRequested":
    case "BackoffElapsed":
    case "StopTimedOut":
    case "ChildExited":
      return stay(s);
    case "Spawned": {
      if (!s.spawnInFlight) return stay(s);
      const running: ServiceStatus = {
        ...s,
        state: "running",
        spawnInFlight: false,
        pid: e.pid,
        startedAtMs: ctx.nowMs,
        pending: null,
      };
      const spawned = note({ kind: "spawned", fields: { pid: e.pid, incarnation: e.incarnation } });
      // a stop asked for while the spawn was in flight is carried out now
      if (s.pending) return withEffects(beginStop(running, s.pending, ctx), [spawned], true);
      return { status: running, effects: [spawned] };
    }
    case "SpawnFailed": {
      if (!s.spawnInFlight) return stay(s);
      const exit: ExitInfo = { code: null, signal: null, reason: "exit", atMs: ctx.nowMs, error: e.error };
      const failed = note({ kind: "spawn-failed", fields: { error: e.error } });
      if (s.pending?.then === "hold") {
        return { status: { ...ended(s, exit), state: "stopped" }, effects: [failed] };
      }
      return withEffects(afterExit({ ...s, pending: null }, exit, ctx), [failed], true);
    }
    default:
      return assertNever(e);
  }
}

function fromRunning(s: ServiceStatus, e: ServiceEvent, ctx: MachineContext): Transition {
  switch (e.type) {
    case "StartAbandoned":
    case "Queued":
    case "StartRequested":
    case "Spawned":
    case "SpawnFailed":
    case "BackoffElapsed":
    case "StopTimedOut":
      return stay(s);
    case "StopRequested":
      return beginStop(s, { then: "hold", reason: e.reason }, ctx);
    case "RestartRequested":
      return beginStop(s, { then: "restart", reason: e.reason }, ctx);
    case "FailureDetected": {
      const t = beginStop(s, { then: "restart", reason: e.reason }, ctx);
      const fields = { reason: e.reason, detail: e.detail, ...(ctx.restart.policy === "never" ? { restarts: false } : {}) };
      return withEffects(t, [note({ kind: "failure", fields })], true);
    }
    case "KillRequested": {
      const t = beginStop(s, { then: "hold", reason: "manual" }, ctx);
      return withEffects(t, [{ type: "KillTree" }], false);
    }
    case "ChildExited": {
      const exit: ExitInfo = { code: e.code, signal: e.signal, reason: "exit", atMs: ctx.nowMs };
      return withEffects(afterExit(s, exit, ctx), [logExit(exit, s.pid)], true);
    }
    default:
      return assertNever(e);
  }
}

function fromStopping(s: ServiceStatus, e: ServiceEvent, ctx: MachineContext): Transition {
  const pending = s.pending ?? { then: "hold", reason: "manual" };
  switch (e.type) {
    case "Queued":
    case "Spawned":
    case "SpawnFailed":
    case "BackoffElapsed":
    case "FailureDetected":
    case "StartAbandoned":
      return stay(s);
    case "StartRequested":
      // stopping because an edit removed it (or scaled it down), and added back: the child still leaves for the edit
      return stay({ ...s, pending: { then: "restart", reason: pending.then === "hold" && pending.reason === "config" ? "config" : "manual" } });
    case "RestartRequested":
      return pending.then === "hold" && e.reason !== "manual" ? stay(s) : stay({ ...s, pending: { then: "restart", reason: e.reason } });
    case "StopRequested":
      return stay({ ...s, pending: { then: "hold", reason: pending.then === "hold" ? pending.reason : e.reason } });
    case "StopTimedOut":
      return {
        status: s,
        effects: [{ type: "KillTree" }, note({ kind: "stop-timeout", fields: { timeoutMs: ctx.stop.timeoutMs } })],
      };
    case "KillRequested":
      return { status: s, effects: [{ type: "KillTree" }] };
    case "ChildExited": {
      const exit: ExitInfo = { code: e.code, signal: e.signal, reason: pending.reason, atMs: ctx.nowMs };
      const effects: Effect[] = [{ type: "CancelTimer", timer: "stop" }, logExit(exit, s.pid)];
      if (pending.then === "hold") {
        return { status: { ...ended(s, exit), state: "stopped" }, effects };
      }
      if (pending.reason === "manual" || pending.reason === "config" || pending.reason === "watch") {
        return withEffects(spawn({ ...ended(s, exit), attempt: 0, restartTimes: [] }, true), effects, true);
      }
      return withEffects(afterExit(s, exit, ctx), effects, true);
    }
    default:
      return assertNever(e);
  }
}

function fromBackoff(s: ServiceStatus, e: ServiceEvent, ctx: MachineContext): Transition {
  const cancel: Effect = { type: "CancelTimer", timer: "backoff" };
  switch (e.type) {
    case "Queued":
    case "Spawned":
    case "SpawnFailed":
    case "ChildExited":
    case "FailureDetected":
    case "StartAbandoned":
    case "KillRequested":
    case "StopTimedOut":
      return stay(s);
    case "BackoffElapsed":
      return spawn({ ...s, nextRestartAtMs: null }, true);
    case "StartRequested":
    case "RestartRequested": {
      const fresh = e.type === "StartRequested" || e.reason === "manual" || e.reason === "config" || e.reason === "watch";
      const next = fresh ? { ...s, nextRestartAtMs: null, attempt: 0, restartTimes: [] } : { ...s, nextRestartAtMs: null };
      return withEffects(spawn(next, true), [cancel], true);
    }
    case "StopRequested":
      return { status: { ...s, state: "stopped", nextRestartAtMs: null }, effects: [cancel] };
    default:
      return assertNever(e);
  }
}

function spawn(s: ServiceStatus, isRestart: boolean): Transition {
  const incarnation = s.incarnation + 1;
  return {
    status: {
      ...s,
      state: "starting",
      incarnation,
      spawnInFlight: true,
      pid: null,
      startedAtMs: null,
      pending: null,
      nextRestartAtMs: null,
      restarts: isRestart ? s.restarts + 1 : s.restarts,
    },
    effects: [{ type: "Spawn", incarnation }],
  };
}

function beginStop(s: ServiceStatus, pending: PendingStop, ctx: MachineContext): Transition {
  return {
    status: { ...s, state: "stopping", pending },
    effects: [
      { type: "Signal", signal: ctx.stop.signal },
      { type: "StartTimer", timer: "stop", delayMs: ctx.stop.timeoutMs },
    ],
  };
}

function ended(s: ServiceStatus, exit: ExitInfo): ServiceStatus {
  return { ...s, pid: null, startedAtMs: null, spawnInFlight: false, pending: null, lastExit: exit };
}

/** The child is gone for a reason of its own or of its health: apply the restart policy. */
function afterExit(s: ServiceStatus, exit: ExitInfo, ctx: MachineContext): Transition {
  const ranMs = s.startedAtMs === null ? null : ctx.nowMs - s.startedAtMs;
  const decision = decideRestart(ctx.restart, exit, { attempt: s.attempt, restartTimes: s.restartTimes, ranMs }, ctx.nowMs, ctx.random);
  const base = ended(s, exit);
  switch (decision.kind) {
    case "done":
      return { status: { ...base, state: "exited" }, effects: [] };
    case "fatal": {
      const fields = { restarts: decision.restartsInWindow, windowMs: ctx.restart.windowMs, maxRestarts: ctx.restart.maxRestarts };
      return { status: { ...base, state: "fatal" }, effects: [note({ kind: "fatal", fields })] };
    }
    case "restart": {
      const next: ServiceStatus = { ...base, attempt: decision.attempt, restartTimes: decision.restartTimes };
      const scheduled = note({ kind: "restart-scheduled", fields: { delayMs: decision.delayMs, reason: exit.reason, attempt: decision.attempt } });
      if (decision.delayMs === 0) return withEffects(spawn(next, true), [scheduled], true);
      return {
        status: { ...next, state: "backoff", nextRestartAtMs: ctx.nowMs + decision.delayMs },
        effects: [scheduled, { type: "StartTimer", timer: "backoff", delayMs: decision.delayMs }],
      };
    }
    default:
      return assertNever(decision);
  }
}

function logExit(exit: ExitInfo, pid: number | null): Effect {
  return note({ kind: "exit", fields: { code: exit.code, signal: exit.signal, reason: exit.reason, pid } });
}

function note(n: Note): Effect {
  return { type: "Note", note: n };
}

function withEffects(t: Transition, extra: readonly Effect[], before: boolean): Transition {
  return { status: t.status, effects: before ? [...extra, ...t.effects] : [...t.effects, ...extra] };
}

export function assertNever(x: never): never {
  throw new Error(`bug: unhandled case ${JSON.stringify(x)}`);
}

