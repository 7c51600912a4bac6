// The status document (SPEC §4) as a projection of the state: one entry per instance. Times are turned
// into ISO text by the caller's functions (the renderer keeps a memo of them).
import type { ProbeDoc, ScheduleDoc, ServiceDoc, TaskDoc, TasksDoc } from "../../control/status-document.js";
import type { ProbeState } from "../probe-tracker.js";
import { unmetDependencies, isWaiting } from "./gating.js";
import { healthOf } from "./health.js";
import { configOf, nameOf, type Instance, type StackState } from "./state.js";

export interface TimeText {
  /** a monotonic instant as ISO text; null for null */
  ofMonotonic(ms: number | null): string | null;
  ofWall(ms: number): string;
}

export function instanceDoc(state: StackState, instance: Instance, nowMs: number, time: TimeText): ServiceDoc {
  const s = instance.status;
  const config = configOf(state, instance);
  const sample = s.pid !== null ? instance.sample : null;
  const exit = s.lastExit;
  const m = instance.messages;
  const probes = instance.probes;
  return {
    name: nameOf(state, instance),
    state: s.state,
    health: healthOf(state, instance, nowMs),
    pid: s.pid,
    restarts: s.restarts,
    started_at: time.ofMonotonic(s.startedAtMs),
    last_beat_at: m.lastBeatWallMs === null ? null : time.ofWall(m.lastBeatWallMs),
    beats: m.beats,
    last_beat_data: m.lastBeatData ?? null,
    cpu_percent: sample?.cpuPercent ?? null,
    memory_bytes: sample?.rssBytes ?? null,
    last_exit: exit
      ? { code: exit.code, signal: exit.signal, reason: exit.reason, at: time.ofMonotonic(exit.atMs) ?? "", ...(exit.error ? { error: exit.error } : {}) }
      : null,
    next_restart_at: time.ofMonotonic(s.nextRestartAtMs),
    command: config.command,
    waiting_for: isWaiting(s) ? unmetDependencies(state, config, nowMs) : [],
    own_cpu_percent: sample?.ownCpuPercent ?? null,
    own_memory_bytes: sample?.ownRssBytes ?? null,
    processes: sample?.processes ?? null,
    probes: probes.liveness || probes.readiness ? { liveness: probeDoc(probes.liveness?.state), readiness: probeDoc(probes.readiness?.state) } : null,
    rejected_messages: state.services.get(instance.service)?.rejected ?? 0,
    status_text: m.statusText,
    service: instance.service,
    instance: instance.index,
    role: instance.role,
    rollover_error: instance.rolloverError,
    disabled: config.disabled,
    schedule: scheduleDoc(state, instance, time),
    tasks: tasksDoc(instance, config.tasks !== null, nowMs, time, TASKS_SHOWN),
  };
}

/** open tasks listed in the status document (all are in GET /api/services/NAME/tasks) */
export const TASKS_SHOWN = 20;

export function tasksDoc(instance: Instance, configured: boolean, nowMs: number, time: TimeText, limit = Infinity): TasksDoc | null {
  const book = instance.tasks;
  if (!configured && book.started === 0 && book.rejected === 0 && book.unmatched === 0) return null;
  const inFlight: TaskDoc[] = [];
  for (const task of book.open.values()) {
    if (inFlight.length >= limit) break;
    inFlight.push({
      id: task.id,
      name: task.name,
      started_at: time.ofMonotonic(task.startedAtMs) ?? "",
      running_for_ms: nowMs - task.startedAtMs,
      idle_for_ms: nowMs - task.lastAtMs,
      stale: task.staleWarned,
      timed_out: task.timedOut,
    });
  }
  return {
    state: book.open.size > 0 ? "busy" : "idle",
    open: book.open.size,
    in_flight: inFlight,
    started: book.started,
    ended: book.ended,
    rejected: book.rejected,
    unmatched: book.unmatched,
  };
}

function scheduleDoc(state: StackState, instance: Instance, time: TimeText): ScheduleDoc | null {
  const entry = state.services.get(instance.service);
  const config = entry?.config.schedule;
  if (!entry || !config) return null;
  const s = entry.schedule;
  const last = s.lastRun;
  return {
    cron: config.cron,
    timezone: config.timezone,
    overlap: config.overlap,
    next_run_at: s.nextRunAtWallMs === null ? null : time.ofWall(s.nextRunAtWallMs),
    runs: s.runs,
    skipped: s.skipped,
    queued: s.pending.has(instance.id),
    held: s.held,
    last_run: last === null ? null : { code: last.code, signal: last.signal, duration_ms: last.durationMs, ended_at: time.ofWall(last.endedAtWallMs) },
  };
}

function probeDoc(state: ProbeState | undefined): ProbeDoc | null {
  if (!state) return null;
  return { status: state.status, last_detail: state.lastDetail, consecutive_failures: state.consecutiveFailures, checks: state.totalChecks };
}
