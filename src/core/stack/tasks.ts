// In-flight tasks of a child (task-book.ts keeps them): what a report means for the instance, and what
// its deadlines do. With `heartbeat.when: busy` an idle child (no task open) may be silent: its heartbeat
// is watched only while a task is open, and the start of the first task counts as its first beat.
import { beat, newWatch } from "../beat-watch.js";
import { formatMs } from "../format.js";
import type { TaskReport } from "../heartbeat-message.js";
import { due, dropTasks, MAX_OPEN_TASKS, report, type TaskDeadlines } from "../task-book.js";
import type { HeartbeatConfig, ServiceConfig } from "../../manifest/types.js";
import { arm } from "./children.js";
import { healthOf } from "./health.js";
import { dispatch } from "./step.js";
import { configOf, type Instance } from "./state.js";
import type { Turn } from "./turn.js";

export function deadlinesOf(config: ServiceConfig): TaskDeadlines | null {
  const tasks = config.tasks;
  if (!tasks || (tasks.staleAfterMs === null && tasks.timeoutMs === null)) return null;
  return { staleAfterMs: tasks.staleAfterMs, timeoutMs: tasks.timeoutMs };
}

/** `when: busy`: the heartbeat is watched only while a task is open. */
export function heartbeatWanted(hb: HeartbeatConfig, instance: Instance): boolean {
  return hb.when === "always" || instance.tasks.open.size > 0;
}

export function taskMessage(t: Turn, instance: Instance, r: TaskReport): void {
  const config = configOf(t.state, instance);
  const wasBusy = instance.tasks.open.size > 0;
  const { outcome, arm: delayMs } = report(instance.tasks, r, deadlinesOf(config), t.nowMs);
  if (delayMs !== null) setTimer(t, instance, delayMs);
  if (outcome === "rejected") {
    const folded = t.state.rejectLog.admit(`tasks/${instance.id}`, t.nowMs);
    if (folded !== null) {
      const detail = `a task start beyond ${MAX_OPEN_TASKS} open tasks; refused (${instance.tasks.rejected} so far)`;
      t.publish("message-rejected", instance, { kind: "too-many-tasks", detail, folded });
    }
  }
  const busy = instance.tasks.open.size > 0;
  if (busy !== wasBusy && config.heartbeat?.when === "busy") busyChanged(t, instance, busy);
}

/** `when: busy` only: the first task opens the heartbeat watch (its start is a beat), the last one's end closes it. */
function busyChanged(t: Turn, instance: Instance, busy: boolean): void {
  const hb = configOf(t.state, instance).heartbeat;
  if (!hb) return;
  const before = healthOf(t.state, instance, t.nowMs);
  if (busy && !instance.heartbeat) {
    instance.heartbeat = newWatch({ intervalMs: hb.intervalMs, misses: hb.misses, startupGraceMs: hb.startupGraceMs }, t.nowMs);
    const outcome = beat(instance.heartbeat, t.nowMs);
    arm(t, instance, "heartbeat", outcome.arm ?? instance.heartbeat.firstChangeMs);
  } else if (!busy && instance.heartbeat) {
    t.emit({ type: "CancelTimer", key: { id: instance.id, incarnation: instance.status.incarnation, kind: "heartbeat" } });
    instance.heartbeat = null;
  }
  const after = healthOf(t.state, instance, t.nowMs);
  if (after !== before) {
    t.publish("health", instance, { health: after, previous: before });
    t.gatingChanged = true;
  }
}

/** The task timer fired: one warning per task gone stale, task-timeout per task past its timeout. */
export function tasksDue(t: Turn, instance: Instance): void {
  const config = configOf(t.state, instance);
  const deadlines = deadlinesOf(config);
  const outcome = due(instance.tasks, deadlines, t.nowMs);
  if (outcome.arm !== null) setTimer(t, instance, outcome.arm);
  for (const task of outcome.stale) {
    t.publish("task-stale", instance, {
      task: task.id,
      name: task.name,
      idleForMs: t.nowMs - task.lastAtMs,
      runningForMs: t.nowMs - task.startedAtMs,
      staleAfterMs: deadlines?.staleAfterMs ?? 0,
    });
  }
  const onTimeout = config.tasks?.onTimeout ?? "alert";
  for (const task of outcome.timedOut) {
    t.publish("task-timeout", instance, { task: task.id, name: task.name, runningForMs: t.nowMs - task.startedAtMs, timeoutMs: deadlines?.timeoutMs ?? 0, onTimeout });
  }
  const first = outcome.timedOut[0];
  if (first && onTimeout === "restart" && instance.status.state === "running") {
    const more = outcome.timedOut.length > 1 ? ` (and ${outcome.timedOut.length - 1} more)` : "";
    const detail = `task ${JSON.stringify(first.id)} open for ${formatMs(t.nowMs - first.startedAtMs)}${more}, timeout ${formatMs(deadlines?.timeoutMs ?? 0)}`;
    dispatch(t, instance, { type: "FailureDetected", reason: "task-timeout", detail });
  }
}

/** New `tasks:` deadlines (a reload): the timer looks at every open task now. */
export function retask(t: Turn, instance: Instance): void {
  if (instance.tasks.open.size === 0) return;
  instance.tasks.dueMs = t.nowMs;
  setTimer(t, instance, 0);
}

/** The child is gone: its tasks and their timer go with it. */
export function forgetTasks(t: Turn, instance: Instance, incarnation: number): void {
  if (instance.tasks.dueMs !== null) t.emit({ type: "CancelTimer", key: { id: instance.id, incarnation, kind: "task" } });
  dropTasks(instance.tasks);
}

function setTimer(t: Turn, instance: Instance, delayMs: number): void {
  t.emit({ type: "SetTimer", key: { id: instance.id, incarnation: instance.status.incarnation, kind: "task" }, delayMs });
}
