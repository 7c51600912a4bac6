// Heartbeat watchdog for many ids on an injected Clock. One timer per id, armed for the next level
// change only: a beat just stores its time, and the timer re-checks the real age when it fires.
import type { Clock, TimerHandle } from "./clock.js";
import type { Health } from "./types.js";
import {
  HEALTH_SEVERITY, healthAt, healthLadder, isAtLeast, nextChangeInMs, startupDeadlineMs,
  type BeatHealth, type UnhealthyLevel,
} from "./heartbeat-health.js";

/** `atMs` is monotonic, `wallMs` epoch time */
export type BeatRecord = { readonly atMs: number; readonly wallMs: number; readonly data: unknown };

/** before the first beat, the only deadline is max(startupGraceMs, misses × intervalMs) → failed */
export type WatchOptions = { readonly intervalMs: number; readonly misses: number; readonly startupGraceMs?: number };

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

/**
 * The last `size` beats; a push overwrites the oldest in place. Times are kept flat and records made
 * only when history() asks: a record object per beat, kept for 100 beats, was 100,000 long-lived
 * objects at 1,000 services beating once a second, and the garbage collector's steady work.
 */
class BeatRing {
  readonly #size: number;
  /** atMs, wallMs of each slot */
  readonly #times: Float64Array;
  /** made once some beat carries data */
  #data: unknown[] | null = null;
  #start = 0;
  #count = 0;
  constructor(size: number) {
    this.#size = size;
    this.#times = new Float64Array(size * 2);
  }

  push(atMs: number, wallMs: number, data: unknown): void {
    const size = this.#size;
    if (size === 0) return;
    let slot: number;
    if (this.#count < size) slot = (this.#start + this.#count++) % size;
    else {
      slot = this.#start;
      this.#start = (this.#start + 1) % size;
    }
    this.#times[slot * 2] = atMs;
    this.#times[slot * 2 + 1] = wallMs;
    if (data !== undefined && this.#data === null) this.#data = new Array<unknown>(size);
    if (this.#data !== null) this.#data[slot] = data;
  }

  /** the kept beats with wallMs in [sinceWallMs, untilWallMs], oldest first */
  between(sinceWallMs: number, untilWallMs: number): BeatRecord[] {
    const out: BeatRecord[] = [];
    for (let i = 0; i < this.#count; i++) {
      const slot = (this.#start + i) % this.#size;
      const wallMs = this.#times[slot * 2 + 1]!;
      if (wallMs >= sinceWallMs && wallMs <= untilWallMs) out.push({ atMs: this.#times[slot * 2]!, wallMs, data: this.#data?.[slot] });
    }
    return out;
  }
}

type Watch = {
  readonly intervalMs: number; readonly misses: number; readonly startupDeadlineMs: number;
  /** delay from a fresh beat to its first level change */
  readonly firstChangeMs: number;
  readonly ladder: readonly BeatHealth[];
  readonly watchedAtMs: number;
  readonly ring: BeatRing;
  /** the last beat, kept as fields (no object per beat); NaN before the first */
  lastAtMs: number;
  lastWallMs: number;
  lastData: unknown;
  beats: number;
  /** the level last announced by an event, or healthy after a beat */
  reported: Health;
  timer: TimerHandle | null;
  timerDueMs: number;
  /** a late timer that found the service failed looks once more, after the pending input is read */
  secondLook: boolean;
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
  watch(id: string, { intervalMs, misses, startupGraceMs = 0 }: WatchOptions): void {
    checkNumber("intervalMs", intervalMs, "> 0");
    checkNumber("misses", misses, "> 0");
    checkNumber("startupGraceMs", startupGraceMs, "≥ 0");
    this.unwatch(id);
    const w: Watch = {
      intervalMs, misses, startupDeadlineMs: startupDeadlineMs(intervalMs, misses, startupGraceMs),
      firstChangeMs: nextChangeInMs(0, intervalMs, misses) ?? 0, ladder: healthLadder(intervalMs, misses),
      watchedAtMs: this.#clock.now(), ring: new BeatRing(this.#historySize),
      lastAtMs: NaN, lastWallMs: NaN, lastData: undefined, beats: 0, reported: "unknown", timer: null, timerDueMs: 0, secondLook: false,
    };
    this.#watches.set(id, w);
    this.#arm(id, w, w.startupDeadlineMs);
  }

  /**
   * New settings for a watched id (an edit of the manifest), keeping its beats, history and the time it
   * was first watched: health is judged anew from the same last beat. A level that the new settings make
   * better is taken at once (an event for healthy); a worse one is announced by the timer, as usual.
   */
  reconfigure(id: string, { intervalMs, misses, startupGraceMs = 0 }: WatchOptions): void {
    const old = this.#watches.get(id);
    if (!old) return this.watch(id, { intervalMs, misses, startupGraceMs });
    checkNumber("intervalMs", intervalMs, "> 0");
    checkNumber("misses", misses, "> 0");
    checkNumber("startupGraceMs", startupGraceMs, "≥ 0");
    if (old.timer !== null) this.#clock.clearTimer(old.timer);
    const w: Watch = {
      ...old,
      intervalMs, misses, startupDeadlineMs: startupDeadlineMs(intervalMs, misses, startupGraceMs),
      firstChangeMs: nextChangeInMs(0, intervalMs, misses) ?? 0, ladder: healthLadder(intervalMs, misses),
      timer: null, secondLook: false,
    };
    this.#watches.set(id, w);
    const nowMs = this.#clock.now();
    const { health, ageMs, nextInMs } = this.#observe(w, nowMs);
    const previous = w.reported;
    if (HEALTH_SEVERITY[health] < HEALTH_SEVERITY[previous] && health !== "unknown") {
      w.reported = health;
      if (health === "healthy") this.#emit("recovered", { id, health, previous, ageMs });
    }
    // a level already due is announced on the next turn, by the timer like any other
    this.#arm(id, w, HEALTH_SEVERITY[health] > HEALTH_SEVERITY[w.reported] ? 0 : (nextInMs ?? w.startupDeadlineMs));
  }

  unwatch(id: string): void {
    const w = this.#watches.get(id);
    if (!w) return;
    if (w.timer !== null) this.#clock.clearTimer(w.timer);
    w.timer = null;
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
    const w = this.#watches.get(id);
    if (!w) return false;
    const nowMs = this.#clock.now();
    const gapMs = nowMs - (hasBeaten(w) ? w.lastAtMs : w.watchedAtMs);
    w.lastAtMs = nowMs;
    w.lastWallMs = wallMs ?? this.#clock.wallNow();
    w.lastData = data;
    w.beats++;
    w.ring.push(nowMs, w.lastWallMs, data);
    // an armed timer due no later than the new deadline is kept: it re-checks the age when it fires
    if (w.timer === null) this.#arm(id, w, w.firstChangeMs);
    else if (w.timerDueMs > nowMs + w.firstChangeMs) {
      this.#clock.clearTimer(w.timer);
      this.#arm(id, w, w.firstChangeMs);
    }
    const previous = w.reported;
    w.reported = "healthy";
    if (HEALTH_SEVERITY[previous] > HEALTH_SEVERITY.healthy) {
      this.#emit("recovered", { id, health: "healthy", previous, ageMs: gapMs });
    }
    return true;
  }

  /** Health now, from the clock; events may trail it by the timer's latency. */
  health(id: string): Health {
    const w = this.#watches.get(id);
    return w ? this.#observe(w, this.#clock.now()).health : "unknown";
  }

  lastBeat(id: string): BeatRecord | null {
    const w = this.#watches.get(id);
    return w && hasBeaten(w) ? { atMs: w.lastAtMs, wallMs: w.lastWallMs, data: w.lastData } : null;
  }

  beats(id: string): number {
    return this.#watches.get(id)?.beats ?? 0;
  }

  unhealthy(level: UnhealthyLevel = "degraded"): string[] {
    const nowMs = this.#clock.now();
    return [...this.#watches].filter(([, w]) => isAtLeast(this.#observe(w, nowMs).health, level)).map(([id]) => id);
  }

  stats(): MonitorStats {
    const nowMs = this.#clock.now();
    const counts = { healthy: 0, degraded: 0, critical: 0, failed: 0, unknown: 0 };
    let totalBeats = 0;
    for (const w of this.#watches.values()) {
      counts[this.#observe(w, nowMs).health]++;
      totalBeats += w.beats;
    }
    return { ...counts, watched: this.#watches.size, totalBeats };
  }

  /** null when `id` is not watched */
  statsOf(id: string): WatchStats | null {
    const w = this.#watches.get(id);
    if (!w) return null;
    const nowMs = this.#clock.now();
    const { health } = this.#observe(w, nowMs);
    const beaten = hasBeaten(w);
    return {
      health, beats: w.beats, intervalMs: w.intervalMs, misses: w.misses,
      lastBeatAtMs: beaten ? w.lastAtMs : null, lastBeatWallMs: beaten ? w.lastWallMs : null, ageMs: beaten ? nowMs - w.lastAtMs : null,
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

  #observe(w: Watch, nowMs: number): { health: Health; ageMs: number; nextInMs: number | null } {
    if (!hasBeaten(w)) {
      const sinceMs = nowMs - w.watchedAtMs;
      const failed = sinceMs >= w.startupDeadlineMs;
      return { health: failed ? "failed" : "unknown", ageMs: sinceMs, nextInMs: failed ? null : w.startupDeadlineMs - sinceMs };
    }
    const ageMs = nowMs - w.lastAtMs;
    return { health: healthAt(ageMs, w.intervalMs, w.misses), ageMs, nextInMs: nextChangeInMs(ageMs, w.intervalMs, w.misses) };
  }

  #arm(id: string, w: Watch, delayMs: number): void {
    w.timerDueMs = this.#clock.now() + delayMs;
    w.timer = this.#clock.setTimer(delayMs, () => this.#fire(id, w));
  }

  #fire(id: string, w: Watch): void {
    if (this.#watches.get(id) !== w) return;
    w.timer = null;
    const nowMs = this.#clock.now();
    const { health, ageMs, nextInMs } = this.#observe(w, nowMs);
    // After a stall of the event loop, timers run before the sockets are read: beats that arrived in
    // time may still be waiting. A late verdict of failed is taken only after one more turn.
    if (health === "failed" && !w.secondLook && nowMs - w.timerDueMs > LATE_MS) {
      w.secondLook = true;
      // 1 ms, like setTimeout(0): the next turn of the loop, after its I/O
      this.#arm(id, w, 1);
      return;
    }
    w.secondLook = false;
    // armed before the listeners run, so that none of them can leave the id without a timer
    if (nextInMs !== null) this.#arm(id, w, nextInMs);
    this.#escalate(id, w, health, ageMs);
  }

  /** A timer that fires late past several levels announces each one in order, all with the same ageMs. */
  #escalate(id: string, w: Watch, health: Health, ageMs: number): void {
    for (const step of hasBeaten(w) ? w.ladder : (["failed"] as const)) {
      if (HEALTH_SEVERITY[step] <= HEALTH_SEVERITY[w.reported]) continue;
      if (HEALTH_SEVERITY[step] > HEALTH_SEVERITY[health]) return;
      const previous = w.reported;
      w.reported = step;
      this.#emit(step as UnhealthyLevel, { id, health: step, previous, ageMs } as MonitorEvents[UnhealthyLevel]);
      // a listener that beat, unwatched or re-watched has made the rest of the ladder stale
      if (this.#watches.get(id) !== w || w.reported !== step) return;
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

/** how late a timer may fire before its verdict of failed is checked once more */
const LATE_MS = 50;

function checkNumber(name: string, value: number, rule: "> 0" | "≥ 0"): void {
  const ok = typeof value === "number" && Number.isFinite(value) && (rule === "> 0" ? value > 0 : value >= 0);
  if (!ok) throw new RangeError(`heartbeat watch: ${name} must be a finite number ${rule}, got ${String(value)}`);
}

function hasBeaten(w: Watch): boolean {
  return !Number.isNaN(w.lastAtMs);
}
