// Heartbeat watchdog for many ids on an injected Clock, for a Node program that watches beats of its own
// (vigil's library API). The deadline logic is beat-watch.ts, the same the supervisor uses; this class
// adds a timer per id and listeners.
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Health } from "../core/types.js";
import { isAtLeast, type UnhealthyLevel } from "../core/heartbeat-health.js";
import { BeatRing, type BeatRecord } from "../core/beat-ring.js";
import { beat, checkSettings, hasBeaten, newWatch, observe, reconfigure, timerFired, type BeatWatch, type WatchSettings } from "../core/beat-watch.js";

export type { BeatRecord } from "../core/beat-ring.js";

/** before the first beat, the only deadline is max(startupGraceMs, misses × intervalMs) → failed */
export type WatchOptions = WatchSettings;

/** `ageMs`: age of the last beat (or time since watch() if none) when the change was seen */
export type HealthChange<H extends Health = Health> = {
  readonly id: string; readonly health: H; readonly previous: Health; readonly ageMs: number;
};
export type MonitorEvents = {
  degraded: HealthChange<"degraded">; critical: HealthChange<"critical">;
  failed: HealthChange<"failed">; recovered: HealthChange<"healthy">;
};
export type MonitorEventName = keyof MonitorEvents;
export type MonitorListener<E extends MonitorEventName> = (change: MonitorEvents[E]) => void;

export type HeartbeatMonitorOptions = {
  /** beats kept per id for history() */
  readonly historySize?: number;
  /** where a listener's exception goes; console.error when not given, so a bug is never silent */
  readonly onListenerError?: (error: unknown, event: MonitorEventName, change: HealthChange) => void;
};

/** `totalBeats` sums the ids watched now, each counted since its watch() */
export type MonitorStats = { readonly [H in Health]: number } & { readonly watched: number; readonly totalBeats: number };

export type WatchStats = {
  readonly health: Health; readonly beats: number; readonly intervalMs: number; readonly misses: number;
  readonly lastBeatAtMs: number | null; readonly lastBeatWallMs: number | null; readonly ageMs: number | null;
};

type Watch = {
  w: BeatWatch;
  readonly ring: BeatRing;
  /** the last beat, kept as fields (no object per beat); NaN before the first */
  lastWallMs: number;
  lastData: unknown;
  beats: number;
  timer: TimerHandle | null;
};

export class HeartbeatMonitor {
  readonly #clock: Clock;
  readonly #historySize: number;
  readonly #onListenerError: NonNullable<HeartbeatMonitorOptions["onListenerError"]>;
  readonly #watches = new Map<string, Watch>();
  readonly #listeners = new Map<MonitorEventName, Set<(change: never) => void>>();

  constructor(clock: Clock, { historySize = 100, onListenerError }: HeartbeatMonitorOptions = {}) {
    if (!Number.isInteger(historySize) || historySize < 0) {
      throw new RangeError(`historySize must be a whole number ≥ 0, got ${String(historySize)}`);
    }
    this.#clock = clock;
    this.#historySize = historySize;
    this.#onListenerError =
      onListenerError ?? ((error, event) => console.error(`vigil: a "${event}" heartbeat listener threw`, error));
  }

  /** Starts watching `id`, or starts over (count, history, health) if it was watched already. */
  watch(id: string, settings: WatchOptions): void {
    checkSettings(settings);
    this.unwatch(id);
    const w = newWatch(settings, this.#clock.now());
    const watch: Watch = { w, ring: new BeatRing(this.#historySize), lastWallMs: NaN, lastData: undefined, beats: 0, timer: null };
    this.#watches.set(id, watch);
    this.#arm(id, watch, w.startupDeadlineMs);
  }

  /**
   * New settings for a watched id (an edit of the manifest), keeping its beats, history and the time it
   * was first watched: health is judged anew from the same last beat. A level that the new settings make
   * better is taken at once (an event for healthy); a worse one is announced by the timer, as usual.
   */
  reconfigure(id: string, settings: WatchOptions): void {
    const watch = this.#watches.get(id);
    if (!watch) return this.watch(id, settings);
    const outcome = reconfigure(watch.w, settings, this.#clock.now());
    watch.w = outcome.watch;
    this.#arm(id, watch, outcome.arm);
    if (outcome.previous !== null && outcome.watch.reported === "healthy") {
      this.#emit("recovered", { id, health: "healthy", previous: outcome.previous, ageMs: outcome.ageMs });
    }
  }

  unwatch(id: string): void {
    const watch = this.#watches.get(id);
    if (!watch) return;
    if (watch.timer !== null) this.#clock.clearTimer(watch.timer);
    watch.timer = null;
    this.#watches.delete(id);
  }

  unwatchAll(): void {
    for (const id of [...this.#watches.keys()]) this.unwatch(id);
  }

  isWatching(id: string): boolean {
    return this.#watches.has(id);
  }

  /**
   * The hot path: touches a timer only on the first beat after watch() or after failed. `wallMs`, when
   * the caller has read the wall clock for this beat already, saves a second reading.
   */
  beat(id: string, data?: unknown, wallMs?: number): boolean {
    const watch = this.#watches.get(id);
    if (!watch) return false;
    const nowMs = this.#clock.now();
    const outcome = beat(watch.w, nowMs);
    watch.lastWallMs = wallMs ?? this.#clock.wallNow();
    watch.lastData = data;
    watch.beats++;
    watch.ring.push(nowMs, watch.lastWallMs, data);
    if (outcome.arm !== null) this.#arm(id, watch, outcome.arm);
    if (outcome.previous !== null && outcome.previous !== "unknown") {
      this.#emit("recovered", { id, health: "healthy", previous: outcome.previous, ageMs: outcome.gapMs });
    }
    return true;
  }

  /** Health now, from the clock; events may trail it by the timer's latency. */
  health(id: string): Health {
    const watch = this.#watches.get(id);
    return watch ? observe(watch.w, this.#clock.now()).health : "unknown";
  }

  lastBeat(id: string): BeatRecord | null {
    const watch = this.#watches.get(id);
    return watch && hasBeaten(watch.w) ? { atMs: watch.w.lastAtMs, wallMs: watch.lastWallMs, data: watch.lastData } : null;
  }

  beats(id: string): number {
    return this.#watches.get(id)?.beats ?? 0;
  }

  unhealthy(level: UnhealthyLevel = "degraded"): string[] {
    const nowMs = this.#clock.now();
    return [...this.#watches].filter(([, watch]) => isAtLeast(observe(watch.w, nowMs).health, level)).map(([id]) => id);
  }

  stats(): MonitorStats {
    const nowMs = this.#clock.now();
    const counts = { healthy: 0, degraded: 0, critical: 0, failed: 0, unknown: 0 };
    let totalBeats = 0;
    for (const watch of this.#watches.values()) {
      counts[observe(watch.w, nowMs).health]++;
      totalBeats += watch.beats;
    }
    return { ...counts, watched: this.#watches.size, totalBeats };
  }

  /** null when `id` is not watched */
  statsOf(id: string): WatchStats | null {
    const watch = this.#watches.get(id);
    if (!watch) return null;
    const nowMs = this.#clock.now();
    const { health } = observe(watch.w, nowMs);
    const beaten = hasBeaten(watch.w);
    return {
      health, beats: watch.beats, intervalMs: watch.w.intervalMs, misses: watch.w.misses,
      lastBeatAtMs: beaten ? watch.w.lastAtMs : null, lastBeatWallMs: beaten ? watch.lastWallMs : null,
      ageMs: beaten ? nowMs - watch.w.lastAtMs : null,
    };
  }

  /** The kept beats, oldest first, with wallMs inside the range (both ends inclusive). */
  history(id: string, { sinceWallMs = -Infinity, untilWallMs = Infinity } = {}): readonly BeatRecord[] {
    return this.#watches.get(id)?.ring.between(sinceWallMs, untilWallMs) ?? [];
  }

  on<E extends MonitorEventName>(event: E, listener: MonitorListener<E>): this {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  off<E extends MonitorEventName>(event: E, listener: MonitorListener<E>): this {
    this.#listeners.get(event)?.delete(listener);
    return this;
  }

  #arm(id: string, watch: Watch, delayMs: number): void {
    if (watch.timer !== null) this.#clock.clearTimer(watch.timer);
    watch.w.dueMs = this.#clock.now() + delayMs;
    watch.timer = this.#clock.setTimer(delayMs, () => this.#fire(id, watch));
  }

  #fire(id: string, watch: Watch): void {
    if (this.#watches.get(id) !== watch) return;
    watch.timer = null;
    const w = watch.w;
    let previous: Health = w.reported;
    const outcome = timerFired(w, this.#clock.now());
    // armed before the listeners run, so that none of them can leave the id without a timer
    if (outcome.arm !== null) this.#arm(id, watch, outcome.arm);
    for (const step of outcome.steps) {
      this.#emit(step as UnhealthyLevel, { id, health: step, previous, ageMs: outcome.ageMs } as MonitorEvents[UnhealthyLevel]);
      previous = step;
      // a listener that beat, unwatched or re-watched has made the rest of the ladder stale
      if (this.#watches.get(id) !== watch || watch.w !== w || w.reported === "healthy") return;
    }
  }

  #emit<E extends MonitorEventName>(event: E, change: MonitorEvents[E]): void {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return;
    for (const listener of [...set] as MonitorListener<E>[]) {
      try {
        listener(change);
      } catch (error) {
        this.#onListenerError(error, event, change);
      }
    }
  }
}
