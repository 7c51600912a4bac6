// `watch:` restarts a service when its files change (PM2's and process-compose's watch). The watcher
// adapter reports each change; a burst folds into one restart once `debounce` has passed without
// another. A service that changes its own watched files restarts itself again and again: more than
// `max_restarts` watch restarts within `window` is a loop, and watching it pauses (with a warning)
// until a manual restart or a reload.
import type { ServiceConfig, WatchConfig } from "../../manifest/types.js";
import { dispatch } from "./step.js";
import { instancesOf, type ServiceEntry } from "./state.js";
import type { Turn } from "./turn.js";
import type { TimerKey } from "./effects.js";

export interface WatchState {
  /** changes seen since the last restart: the first path (for the event) and how many */
  firstPath: string | null;
  changes: number;
  /** monotonic times of the watch restarts inside the window */
  restartTimes: readonly number[];
  paused: boolean;
}

export function newWatchState(): WatchState {
  return { firstPath: null, changes: 0, restartTimes: [], paused: false };
}

/** A service's debounce timer: one per service, whatever its instances; the id is the service's name. */
export function watchTimer(service: string): TimerKey {
  return { id: service, incarnation: 0, kind: "watch" };
}

export function filesChanged(t: Turn, service: string, path: string): void {
  const entry = t.state.services.get(service);
  const config = entry?.config.watch;
  if (!entry || !config || entry.watch.paused || t.state.shuttingDown) return;
  entry.watch.firstPath ??= path;
  entry.watch.changes++;
  const key = watchTimer(service);
  t.emit({ type: "CancelTimer", key });
  t.emit({ type: "SetTimer", key, delayMs: config.debounceMs });
}

/** The burst is over: restart the service, unless this restart would make a loop. */
export function watchDue(t: Turn, service: string): void {
  const entry = t.state.services.get(service);
  const config = entry?.config.watch;
  if (!entry || !config || entry.watch.paused || entry.watch.changes === 0 || t.state.shuttingDown) return;
  const { firstPath, changes } = entry.watch;
  const decision = decideWatchRestart(config, entry.watch.restartTimes, t.nowMs);
  entry.watch = { firstPath: null, changes: 0, restartTimes: decision.restartTimes, paused: decision.kind === "loop" };
  const subject = { service, instance: null };
  if (decision.kind === "loop") {
    t.publish("watch-paused", subject, { restarts: decision.restartTimes.length, windowMs: config.windowMs, path: firstPath ?? "" });
    return;
  }
  t.publish("watch-restart", subject, { path: firstPath ?? "", changes });
  for (const instance of instancesOf(t.state, entry)) {
    if (!instance.removing && instance.role === "current") dispatch(t, instance, { type: "RestartRequested", reason: "watch" });
  }
}

export type WatchDecision = { readonly kind: "restart" | "loop"; readonly restartTimes: readonly number[] };

/** Pure: the restart times inside the window, with this one; a loop when there would be more than max_restarts. */
export function decideWatchRestart(config: WatchConfig, restartTimes: readonly number[], nowMs: number): WatchDecision {
  const recent = restartTimes.filter((at) => nowMs - at < config.windowMs);
  if (recent.length >= config.maxRestarts) return { kind: "loop", restartTimes: recent };
  return { kind: "restart", restartTimes: [...recent, nowMs] };
}

/** A manual restart or a reload: watching starts afresh (and resumes where it was paused). */
export function resumeWatch(t: Turn, entry: ServiceEntry, why: "restart" | "reload"): void {
  const wasPaused = entry.watch.paused;
  if (entry.config.watch === null && entry.watch.changes === 0 && !wasPaused) return;
  entry.watch = newWatchState();
  t.emit({ type: "CancelTimer", key: watchTimer(entry.config.name) });
  if (wasPaused && entry.config.watch) t.publish("watch-resumed", { service: entry.config.name, instance: null }, { why });
}

export function watchesFiles(config: ServiceConfig): boolean {
  return config.watch !== null;
}
