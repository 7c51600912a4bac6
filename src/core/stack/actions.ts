// `actions:` in the stack. A failure (heartbeat, log-stale, probe, limit) or a health level (degraded,
// critical) or a task timeout runs the service's command for it, once per episode, with the event in
// VIGIL_EVENT_* variables; `then: restart` restarts once the command is done (a stack dumped before the
// process is killed), `then: none` only observes: marks, alerts, runs, and leaves the process alone. An
// adopted process with no command to start it again is always only observed.
import type { ActionKind } from "../../manifest/types.js";
import { actionKindOf, decideAction, episodesEnd } from "../action-episodes.js";
import type { ServiceEvent } from "../events.js";
import type { ServiceStatus } from "../service-state.js";
import type { FailureReason, Health } from "../types.js";
import { dispatch } from "./step.js";
import { configOf, nameOf, type Instance } from "./state.js";
import type { Turn } from "./turn.js";
import type { InstanceId } from "./ids.js";

export interface ActionBook {
  /** kinds whose episode has begun and not ended */
  readonly open: Set<ActionKind>;
}

/** a run of an action: the failure it holds back until done, when it restarts */
export interface ActionRun {
  readonly id: InstanceId;
  readonly incarnation: number;
  readonly kind: ActionKind;
  readonly restart: { readonly reason: FailureReason; readonly detail: string } | null;
}

function bookOf(t: Turn, instance: Instance): ActionBook {
  let book = t.state.actions.get(instance.id);
  if (!book) t.state.actions.set(instance.id, (book = { open: new Set() }));
  return book;
}

/** Watched but not started by vigil, and nothing to start it again with: never restarted for a failure. */
export function observesOnly(t: Turn, instance: Instance): boolean {
  const config = configOf(t.state, instance);
  return config.adopt !== null && config.argv.length === 0;
}

/** An adopted process with nothing to start it again has gone: that is a failure to report (health failed, alerted). */
export function adoptedGone(t: Turn, instance: Instance, before: ServiceStatus): void {
  if (!observesOnly(t, instance) || before.pid === null || instance.status.pid !== null || t.state.shuttingDown) return;
  // a release (vigil stop, a reload) is no failure
  if (before.state === "stopping") return;
  t.publish("health", instance, { health: "failed", previous: "unknown" });
}

/**
 * A failure is about to restart the instance: true when this module takes it over (runs the action first,
 * or only observes); false lets the restart go ahead now.
 */
export function failureTakenOver(t: Turn, instance: Instance, event: Extract<ServiceEvent, { type: "FailureDetected" }>): boolean {
  const config = configOf(t.state, instance);
  if (Object.keys(config.actions).length === 0 && !observesOnly(t, instance)) return false;
  if (instance.status.state !== "running") return false;
  const kind = actionKindOf(event.reason, config.actions);
  const book = bookOf(t, instance);
  const decision = decideAction(kind, config.actions, book.open, true, observesOnly(t, instance));
  switch (decision.kind) {
    case "none":
      return false;
    case "repeat":
      if (decision.restart) return false;
      t.publish("failure", instance, { reason: event.reason, detail: event.detail, observe: true });
      return true;
    case "run":
      book.open.add(kind);
      if (!decision.restart) t.publish("failure", instance, { reason: event.reason, detail: event.detail, observe: true });
      run(t, instance, kind, event.reason, event.detail, decision.restart ? { reason: event.reason, detail: event.detail } : null);
      return true;
  }
}

/** A health level of the instance (or a task timeout): its action runs, once per episode; healthy ends them. */
export function healthAction(t: Turn, instance: Instance, health: Health): void {
  if (health === "healthy") return void t.state.actions.get(instance.id)?.open.clear();
  if (health === "degraded" || health === "critical") eventAction(t, instance, health, `health ${health}`);
}

/** Runs the action of `kind` for an event that does not restart by itself (degraded, critical, task-timeout). */
export function eventAction(t: Turn, instance: Instance, kind: ActionKind, detail: string): void {
  const config = configOf(t.state, instance);
  if (config.actions[kind] === undefined) return;
  const book = bookOf(t, instance);
  const decision = decideAction(kind, config.actions, book.open, false, observesOnly(t, instance));
  if (decision.kind !== "run") return;
  book.open.add(kind);
  run(t, instance, kind, "heartbeat", detail, decision.restart ? { reason: "heartbeat", detail: `${detail}; actions.${kind} then: restart` } : null);
}

/** Output (or the log file) grows again, or a person restarted it: the episodes end. */
export function troubleEnded(t: Turn, id: InstanceId): void {
  const book = t.state.actions.get(id);
  if (book) episodesEnd(book.open);
}

function run(t: Turn, instance: Instance, kind: ActionKind, reason: string, detail: string, restart: ActionRun["restart"]): void {
  const config = configOf(t.state, instance);
  const action = config.actions[kind];
  if (!action) return;
  const seq = ++t.state.actionSeq;
  t.state.actionRuns.set(seq, { id: instance.id, incarnation: instance.status.incarnation, kind, restart });
  const name = nameOf(t.state, instance);
  const env: Record<string, string> = {
    ...config.env,
    VIGIL_EVENT_SERVICE: instance.service,
    VIGIL_EVENT_INSTANCE: name,
    VIGIL_EVENT_KIND: kind,
    VIGIL_EVENT_REASON: reason,
    VIGIL_EVENT_DETAIL: detail,
    VIGIL_EVENT_PID: instance.status.pid === null ? "" : String(instance.status.pid),
    VIGIL_EVENT_HEALTH: kind === "degraded" || kind === "critical" ? kind : kind === "task-timeout" ? "unknown" : "failed",
    VIGIL_EVENT_THEN: restart === null ? "none" : "restart",
    VIGIL_EVENT_AT: new Date(t.ctx.wallMs).toISOString(),
  };
  t.emit({ type: "RunAction", seq, id: instance.id, name, argv: action.argv, cwd: config.cwd, env, timeoutMs: action.timeoutMs });
  t.publish("action", instance, { action: kind, outcome: "started", command: action.display, then: restart === null ? "none" : "restart", exitCode: null, detail });
}

export interface ActionResult {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly error: string | null;
  readonly output: string;
}

/** The action's command has ended: said in the journal; a failure it held back restarts now. */
export function actionFinished(t: Turn, seq: number, result: ActionResult): void {
  const runInfo = t.state.actionRuns.get(seq);
  if (!runInfo) return;
  t.state.actionRuns.delete(seq);
  const instance = t.state.instances.get(runInfo.id);
  const ok = result.exitCode === 0 && !result.timedOut && result.error === null;
  const detail = result.error ?? (result.timedOut ? "timed out; killed with everything it started" : `exit code ${result.exitCode ?? "?"}${result.output === "" ? "" : `: ${result.output}`}`);
  const action = instance ? configOf(t.state, instance).actions[runInfo.kind] : undefined;
  t.publish("action", instance ?? { service: runInfo.id, instance: runInfo.id }, {
    action: runInfo.kind,
    outcome: ok ? "done" : "failed",
    command: action?.display ?? "",
    then: runInfo.restart === null ? "none" : "restart",
    exitCode: result.exitCode,
    detail,
  });
  if (!instance || runInfo.restart === null) return;
  // the child it was about may be gone already (exited, stopped by a person): nothing to restart
  if (instance.status.incarnation !== runInfo.incarnation || instance.status.state !== "running") return;
  dispatch(t, instance, { type: "FailureDetected", reason: runInfo.restart.reason, detail: runInfo.restart.detail });
}
