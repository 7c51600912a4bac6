// `schedule:` runs a service as a job at the times of a cron expression. The runtime computes the times
// (croner, in runtime/schedule/) and reports each tick with the time of the next one; what a tick means
// is decided here. An idle instance starts a run; a run still going meets the overlap policy: skip the
// tick, queue one run for when it ends, or replace it (stop it by its stop rules, then start anew).
// A run that succeeds is not restarted until the next tick; a failed one is retried within the run
// under restart.policy (always acts as on-failure: a successful run is never repeated).
import type { RestartConfig, ServiceConfig } from "../../manifest/types.js";
import type { ServiceStatus } from "../service-state.js";
import type { ServiceState } from "../types.js";
import type { InstanceId } from "./ids.js";
import { dispatch } from "./step.js";
import { instancesOf, type Instance, type ServiceEntry } from "./state.js";
import type { Turn } from "./turn.js";

export interface LastRun {
  readonly code: number | null;
  readonly signal: string | null;
  readonly durationMs: number | null;
  readonly endedAtWallMs: number;
}

export interface ScheduleState {
  /** wall-clock time of the next tick, as the runtime computed it; null when none is known or none comes */
  nextRunAtWallMs: number | null;
  /** runs started (by ticks, run_on_start or a person) */
  runs: number;
  /** ticks that found a run still going and started nothing */
  skipped: number;
  /** instances with a run to start once their current one ends (overlap queue and replace) */
  readonly pending: Set<InstanceId>;
  /** monotonic start of each instance's run in progress */
  readonly runStartedAtMs: Map<InstanceId, number>;
  lastRun: LastRun | null;
  /** held down: not started with the stack (disabled, or not named), or stopped by a person; ticks start nothing */
  held: boolean;
}

export function newScheduleState(): ScheduleState {
  return { nextRunAtWallMs: null, runs: 0, skipped: 0, pending: new Set(), runStartedAtMs: new Map(), lastRun: null, held: false };
}

const IDLE: ReadonlySet<ServiceState> = new Set(["stopped", "exited", "fatal"]);

export function isIdleState(state: ServiceState): boolean {
  return IDLE.has(state);
}

/** The restart rules a run follows: `always` would repeat a run that succeeded, so it acts as on-failure. */
export function runRestart(config: ServiceConfig): RestartConfig {
  // an adopted process with nothing to start it: looked for again at every backoff step, never given up
  if (config.adopt !== null && config.argv.length === 0) return { ...config.restart, policy: "always", maxRestarts: Number.MAX_SAFE_INTEGER };
  if (config.schedule === null || config.restart.policy !== "always") return config.restart;
  return { ...config.restart, policy: "on-failure" };
}

/** Whether the stack starts the service with the others: a scheduled one only with run_on_start. */
export function startsWithStack(config: ServiceConfig): boolean {
  return config.schedule === null || config.schedule.runOnStart;
}

/** The runtime has (re)armed the service's timer: the time of the next tick, for the status. */
export function scheduleArmed(t: Turn, service: string, nextRunAtWallMs: number | null): void {
  const entry = t.state.services.get(service);
  if (entry) entry.schedule.nextRunAtWallMs = nextRunAtWallMs;
}

export function scheduleTicked(t: Turn, service: string, nextRunAtWallMs: number | null): void {
  const entry = t.state.services.get(service);
  if (!entry) return;
  entry.schedule.nextRunAtWallMs = nextRunAtWallMs;
  const overlap = entry.config.schedule?.overlap;
  if (overlap === undefined || !t.state.began || t.state.shuttingDown || entry.schedule.held) return;
  for (const instance of instancesOf(t.state, entry)) {
    if (instance.removing || instance.role !== "current") continue;
    if (isIdleState(instance.status.state)) {
      dispatch(t, instance, { type: "Queued" });
      continue;
    }
    const decision = decideOverlap(overlap, entry.schedule.pending.has(instance.id));
    if (decision === "skip") {
      entry.schedule.skipped++;
      t.publish("schedule-skipped", instance, { overlap, skipped: entry.schedule.skipped, state: instance.status.state });
      continue;
    }
    entry.schedule.pending.add(instance.id);
    t.publish("schedule-overlap", instance, { overlap, state: instance.status.state });
    if (decision === "replace") dispatch(t, instance, { type: "StopRequested", reason: "schedule" });
  }
}

export type OverlapDecision = "skip" | "queue" | "replace";

/** Pure: what a tick does to a run still going. queue keeps at most one run waiting; more ticks are skipped. */
export function decideOverlap(overlap: "skip" | "queue" | "replace", alreadyPending: boolean): OverlapDecision {
  if (overlap === "skip") return "skip";
  if (overlap === "queue") return alreadyPending ? "skip" : "queue";
  return "replace";
}

/** An instance of a scheduled service changed state: a run began or ended (and a queued one starts). */
export function scheduleStateChanged(t: Turn, instance: Instance, before: ServiceStatus): void {
  const entry = t.state.services.get(instance.service);
  if (!entry || entry.config.schedule === null) return;
  const after = instance.status;
  const wasIdle = isIdleState(before.state);
  const isIdle = isIdleState(after.state);
  if (wasIdle && !isIdle) {
    entry.schedule.runs++;
    entry.schedule.runStartedAtMs.set(instance.id, t.nowMs);
    return;
  }
  if (wasIdle || !isIdle) return;
  runEnded(t, entry, instance);
}

function runEnded(t: Turn, entry: ServiceEntry, instance: Instance): void {
  const s = instance.status;
  const startedAtMs = entry.schedule.runStartedAtMs.get(instance.id);
  entry.schedule.runStartedAtMs.delete(instance.id);
  const exit = s.lastExit;
  entry.schedule.lastRun = {
    code: exit?.code ?? null,
    signal: exit?.signal ?? null,
    durationMs: startedAtMs === undefined || exit === null ? null : exit.atMs - startedAtMs,
    endedAtWallMs: t.ctx.wallMs,
  };
  if (!entry.schedule.pending.delete(instance.id)) return;
  if (t.state.shuttingDown || entry.schedule.held) return;
  dispatch(t, instance, { type: "Queued" });
}

/** `vigil stop` holds the schedule down, `vigil start` and `restart` let it run again. */
export function holdSchedule(entry: ServiceEntry, held: boolean): void {
  entry.schedule.held = held;
  if (held) entry.schedule.pending.clear();
}
