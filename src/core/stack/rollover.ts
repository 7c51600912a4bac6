// Start-first restarts (SPEC §6.2, `restart.mode: start-first`). A restart of a running instance (asked
// for, a spawn-changing reload, or a failure of its heartbeat, limits or probes) starts a NEW instance in
// the same slot beside the OLD one; once the new one is ready (its ready message, READY=1, its first beat,
// or a passing readiness probe) it takes the slot and the old one is stopped by its stop rules. A new one
// that exits, or is not ready within ready_timeout, is stopped and the old one keeps serving. An instance
// that has no child running (crashed, in backoff) restarts as ever. Replicas roll one at a time: the next
// waits in the service's queue until the one before is kept or given up.
import type { ServiceEvent } from "../events.js";
import { formatMs } from "../format.js";
import type { ExitInfo, ExitReason, FailureReason } from "../types.js";
import { dispatch } from "./step.js";
import { configOf, instancesOf, newInstance, type Instance, type StackState } from "./state.js";
import type { Turn } from "./turn.js";

/** Takes a restart or failure of `instance` when its service restarts start-first; false: the machine decides as ever. */
export function startFirst(t: Turn, instance: Instance, event: Extract<ServiceEvent, { type: "RestartRequested" | "FailureDetected" }>): boolean {
  if (!canRoll(t.state, instance)) return false;
  const reason: ExitReason = event.reason;
  if (event.type === "FailureDetected") t.publish("failure", instance, { reason: event.reason, detail: event.detail });
  const current = instance.successor === null ? null : t.state.instances.get(instance.successor);
  if (current) {
    // a new definition while a new child starts: that child runs the old one, so it starts again
    if (reason !== "config") return true;
    giveUp(t, instance, current, "the definition changed while it started; starting another with the new one", false);
  }
  const entry = t.state.services.get(instance.service);
  if (entry && instancesOf(t.state, entry).some((other) => other !== instance && other.successor !== null)) {
    if (!entry.rollQueue.some((queued) => queued.id === instance.id)) entry.rollQueue.push({ id: instance.id, reason });
    return true;
  }
  begin(t, instance, reason);
  return true;
}

function canRoll(state: StackState, instance: Instance): boolean {
  const s = instance.status;
  return (
    configOf(state, instance).restart.mode === "start-first" &&
    !state.shuttingDown &&
    !instance.removing &&
    instance.role === "current" &&
    s.state === "running" &&
    s.pid !== null
  );
}

function begin(t: Turn, old: Instance, reason: ExitReason): void {
  const { state } = t;
  const next = newInstance(old.service, old.index, old.lineage + 1);
  next.role = "new";
  next.replacing = { id: old.id, reason };
  state.instances.set(next.id, next);
  state.rollovers.add(next.id);
  old.successor = next.id;
  t.publish("rollover", old, { outcome: "started", reason, detail: "", pid: null, oldPid: old.status.pid });
  dispatch(t, next, { type: "StartRequested" });
  const timeoutMs = configOf(state, old).restart.readyTimeoutMs;
  t.emit({ type: "SetTimer", key: { id: next.id, incarnation: next.status.incarnation, kind: "ready" }, delayMs: timeoutMs });
}

/** After every step: each new instance is kept once ready, or given up once it has exited or its old one is going. */
export function settleRollovers(t: Turn): void {
  const { state } = t;
  for (const id of [...state.rollovers]) {
    const next = state.instances.get(id);
    const old = next?.replacing ? state.instances.get(next.replacing.id) : undefined;
    if (!next || !old) {
      state.rollovers.delete(id);
      continue;
    }
    const s = old.status;
    if (next.status.lastExit !== null) giveUp(t, old, next, exitText(next.status.lastExit), true);
    else if (old.removing || state.shuttingDown || s.state === "stopped" || s.pending?.then === "hold") {
      giveUp(t, old, next, "the instance is being stopped", false);
    } else if (s.pid === null || isReady(next)) keep(t, old, next);
  }
}

/** The new instance's ready_timeout has passed. */
export function readyTimedOut(t: Turn, next: Instance): void {
  if (next.role !== "new" || next.replacing === null) return;
  const old = t.state.instances.get(next.replacing.id);
  if (!old) return;
  const timeoutMs = configOf(t.state, old).restart.readyTimeoutMs;
  giveUp(t, old, next, `not ready within ready_timeout (${formatMs(timeoutMs)})`, true);
}

export function isReady(instance: Instance): boolean {
  if (instance.status.state !== "running") return false;
  return instance.messages.ready || instance.messages.beats > 0 || instance.probes.readiness?.state.status === "passing";
}

/** The new instance takes the slot, with the old one's counts; the old one is stopped by its stop rules. */
function keep(t: Turn, old: Instance, next: Instance): void {
  const { state } = t;
  const reason = next.replacing?.reason ?? "manual";
  end(t, old, next);
  const entry = state.services.get(old.service);
  if (entry && entry.instances[old.index] === old.id) entry.instances[old.index] = next.id;
  next.role = "current";
  next.predecessor = old.id;
  next.status = { ...next.status, restarts: old.status.restarts + 1, restartTimes: old.status.restartTimes, attempt: 0 };
  Object.assign(next.restartsByReason, old.restartsByReason);
  next.restartsByReason[reason] = (next.restartsByReason[reason] ?? 0) + 1;
  t.publish("rollover", old, { outcome: "done", reason, detail: "", pid: next.status.pid, oldPid: old.status.pid });
  old.role = "old";
  old.removing = true;
  dispatch(t, old, { type: "StopRequested", reason });
  t.dropLater(old);
  t.gatingChanged = true;
  rollNext(t, old.service);
}

/** The new instance is stopped and dropped; the old one keeps serving, and says why in its status. */
function giveUp(t: Turn, old: Instance, next: Instance, detail: string, failed: boolean): void {
  const reason = next.replacing?.reason ?? "manual";
  end(t, old, next);
  next.removing = true;
  dispatch(t, next, { type: "StopRequested", reason: "manual" });
  t.dropLater(next);
  if (failed) {
    old.rolloverError = detail;
    old.rolloverFailures++;
    t.publish("rollover", old, { outcome: "failed", reason, detail, pid: next.status.pid, oldPid: old.status.pid });
    // the old child was failing (hung, over a limit, sick): with no replacement ready, it is not left to
    // serve like that, but restarted the plain way, stop first
    if (isFailure(reason)) dispatch(t, old, { type: "FailureDetected", reason, detail: `its start-first replacement failed: ${detail}` }, false);
  }
  rollNext(t, old.service);
}

function isFailure(reason: ExitReason): reason is FailureReason {
  return reason === "heartbeat" || reason === "log-stale" || reason === "memory" || reason === "cpu" || reason === "probe" || reason === "task-timeout";
}

function end(t: Turn, old: Instance, next: Instance): void {
  t.state.rollovers.delete(next.id);
  old.successor = null;
  old.rolloverError = null;
  next.replacing = null;
  t.emit({ type: "CancelTimer", key: { id: next.id, incarnation: next.status.incarnation, kind: "ready" } });
}

/** The next replica waiting its turn, if it still runs (one that has since crashed restarts as ever). */
function rollNext(t: Turn, service: string): void {
  const entry = t.state.services.get(service);
  while (entry && entry.rollQueue.length > 0) {
    const { id, reason } = entry.rollQueue.shift()!;
    const instance = t.state.instances.get(id);
    if (instance && canRoll(t.state, instance)) return begin(t, instance, reason);
  }
}

function exitText(exit: ExitInfo): string {
  if (exit.error) return `it could not be started: ${exit.error}`;
  return exit.signal ? `it was killed by ${exit.signal} before it was ready` : `it exited with code ${exit.code} before it was ready`;
}
