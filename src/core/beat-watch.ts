// The deadline logic of one heartbeat watch, as functions of a small record and `now`. One timer per
// watch, armed for the next level change only: a beat stores its time (no timer is touched unless the
// armed one is due too late), and the timer looks at the real age when it fires. The caller owns the
// timer: `arm` in a result is the delay to (re)arm it with.
import type { Health } from "./types.js";
import {
  HEALTH_SEVERITY, healthAt, healthLadder, nextChangeInMs, startupDeadlineMs, type BeatHealth,
} from "./heartbeat-health.js";

/** before the first beat, the only deadline is max(startupGraceMs, misses × intervalMs) → failed */
export interface WatchSettings {
  readonly intervalMs: number;
  readonly misses: number;
  readonly startupGraceMs?: number;
}

export interface BeatWatch {
  readonly intervalMs: number;
  readonly misses: number;
  /** from watchedAtMs; moved later by extendStartup */
  startupDeadlineMs: number;
  /** delay from a fresh beat to its first level change */
  readonly firstChangeMs: number;
  readonly ladder: readonly BeatHealth[];
  readonly watchedAtMs: number;
  /** monotonic time of the last beat; NaN before the first */
  lastAtMs: number;
  /** the level last announced, or healthy after a beat */
  reported: Health;
  /** when the armed timer is due; null when none is armed */
  dueMs: number | null;
  /** a late timer that found the watch failed looks once more, after the pending input is read */
  secondLook: boolean;
}

/** how late a timer may fire before its verdict of failed is checked once more */
export const LATE_MS = 50;

export function checkSettings({ intervalMs, misses, startupGraceMs = 0 }: WatchSettings): void {
  check("intervalMs", intervalMs, "> 0");
  check("misses", misses, "> 0");
  check("startupGraceMs", startupGraceMs, "≥ 0");
}

/** A new watch at nowMs; arm its timer with `startupDeadlineMs`. */
export function newWatch(settings: WatchSettings, nowMs: number, from?: BeatWatch): BeatWatch {
  checkSettings(settings);
  const { intervalMs, misses, startupGraceMs = 0 } = settings;
  return {
    intervalMs,
    misses,
    startupDeadlineMs: startupDeadlineMs(intervalMs, misses, startupGraceMs),
    firstChangeMs: nextChangeInMs(0, intervalMs, misses) ?? 0,
    ladder: healthLadder(intervalMs, misses),
    watchedAtMs: from?.watchedAtMs ?? nowMs,
    lastAtMs: from?.lastAtMs ?? NaN,
    reported: from?.reported ?? "unknown",
    dueMs: null,
    secondLook: false,
  };
}

export function hasBeaten(w: BeatWatch): boolean {
  return !Number.isNaN(w.lastAtMs);
}

/** observe(w, nowMs).health without the object: the hot path asks it twice a beat. */
export function healthNow(w: BeatWatch, nowMs: number): Health {
  if (!hasBeaten(w)) return nowMs - w.watchedAtMs >= w.startupDeadlineMs ? "failed" : "unknown";
  return healthAt(nowMs - w.lastAtMs, w.intervalMs, w.misses);
}

/** Health now, with the age it was judged from and when it changes next (null: not before a beat). */
export function observe(w: BeatWatch, nowMs: number): { health: Health; ageMs: number; nextInMs: number | null } {
  if (!hasBeaten(w)) {
    const sinceMs = nowMs - w.watchedAtMs;
    const failed = sinceMs >= w.startupDeadlineMs;
    return { health: failed ? "failed" : "unknown", ageMs: sinceMs, nextInMs: failed ? null : w.startupDeadlineMs - sinceMs };
  }
  const ageMs = nowMs - w.lastAtMs;
  return { health: healthAt(ageMs, w.intervalMs, w.misses), ageMs, nextInMs: nextChangeInMs(ageMs, w.intervalMs, w.misses) };
}

export interface BeatOutcome {
  /** the level announced before, when the beat changed it (to healthy) */
  readonly previous: Health | null;
  /** the gap since the last beat (or since the watch began) */
  readonly gapMs: number;
  /** (re)arm the timer with this delay; null: the armed one will do */
  readonly arm: number | null;
}

/**
 * The hot path: a beat at nowMs. An armed timer due no later than the new deadline is kept: it
 * re-checks the age when it fires. With `moveEarly`, for a caller whose timers are cheap to move and
 * dear to fire (the stack's timer heap, where a firing is a step of the loop), a timer due within three
 * quarters of firstChangeMs is moved to the new deadline instead: a child beating once every half
 * interval (the usual pace) moves its timer once a beat and the timer does not fire while the beats
 * come, even a little late; a child beating much faster moves it about once every quarter of
 * firstChangeMs. Without the move, the timer fired about once an interval only to find a fresh beat.
 */
export function beat(w: BeatWatch, nowMs: number, moveEarly = false): BeatOutcome {
  const gapMs = nowMs - (hasBeaten(w) ? w.lastAtMs : w.watchedAtMs);
  w.lastAtMs = nowMs;
  const late = w.dueMs === null || w.dueMs > nowMs + w.firstChangeMs;
  const arm = late || (moveEarly && w.dueMs! - nowMs <= (3 * w.firstChangeMs) / 4) ? w.firstChangeMs : null;
  if (arm !== null) w.dueMs = nowMs + arm;
  const previous = w.reported;
  w.reported = "healthy";
  return { previous: previous === "healthy" ? null : previous, gapMs, arm };
}

/**
 * More time before the first beat is required (EXTEND_TIMEOUT_USEC): the deadline becomes at least
 * `extraMs` from now. Returns the delay to (re)arm the timer with, or null when nothing changed (a later
 * deadline stands, or the child has beaten already and the startup is over).
 */
export function extendStartup(w: BeatWatch, nowMs: number, extraMs: number): number | null {
  if (hasBeaten(w)) return null;
  const sinceMs = nowMs - w.watchedAtMs;
  if (sinceMs + extraMs <= w.startupDeadlineMs) return null;
  w.startupDeadlineMs = sinceMs + extraMs;
  w.dueMs = nowMs + extraMs;
  return extraMs;
}

export interface TimerOutcome {
  /** the levels reached since the last announcement, in order (a late timer may pass several) */
  readonly steps: readonly BeatHealth[];
  /** the age the levels were judged from */
  readonly ageMs: number;
  readonly arm: number | null;
}

/** The watch's timer fired at nowMs. */
export function timerFired(w: BeatWatch, nowMs: number): TimerOutcome {
  const dueMs = w.dueMs ?? nowMs;
  w.dueMs = null;
  const { health, ageMs, nextInMs } = observe(w, nowMs);
  // After a stall of the event loop, timers run before the sockets are read: beats that arrived in
  // time may still be waiting. A late verdict of failed is taken only after one more turn.
  if (health === "failed" && !w.secondLook && nowMs - dueMs > LATE_MS) {
    w.secondLook = true;
    w.dueMs = nowMs + 1;
    return { steps: [], ageMs, arm: 1 };
  }
  w.secondLook = false;
  if (nextInMs !== null) w.dueMs = nowMs + nextInMs;
  const steps: BeatHealth[] = [];
  for (const step of hasBeaten(w) ? w.ladder : (["failed"] as const)) {
    if (HEALTH_SEVERITY[step] <= HEALTH_SEVERITY[w.reported]) continue;
    if (HEALTH_SEVERITY[step] > HEALTH_SEVERITY[health]) break;
    steps.push(step);
  }
  if (steps.length > 0) w.reported = steps[steps.length - 1]!;
  return { steps, ageMs, arm: nextInMs };
}

export interface ReconfigureOutcome {
  readonly watch: BeatWatch;
  /** the level announced before, when the new settings made it better at once */
  readonly previous: Health | null;
  readonly ageMs: number;
  readonly arm: number;
}

/**
 * New settings for a watch (an edit of the manifest), keeping its last beat and start: the same beat is
 * judged anew. A better level is taken at once; a worse one is announced by the timer, armed to fire now.
 */
export function reconfigure(old: BeatWatch, settings: WatchSettings, nowMs: number): ReconfigureOutcome {
  const w = newWatch(settings, nowMs, old);
  const { health, ageMs, nextInMs } = observe(w, nowMs);
  const previous = w.reported;
  let improved: Health | null = null;
  if (health !== "unknown" && HEALTH_SEVERITY[health] < HEALTH_SEVERITY[previous]) {
    w.reported = health;
    improved = previous;
  }
  const arm = HEALTH_SEVERITY[health] > HEALTH_SEVERITY[w.reported] ? 0 : (nextInMs ?? w.startupDeadlineMs);
  w.dueMs = nowMs + arm;
  return { watch: w, previous: improved, ageMs, arm };
}

function check(name: string, value: number, rule: "> 0" | "≥ 0"): void {
  const ok = typeof value === "number" && Number.isFinite(value) && (rule === "> 0" ? value > 0 : value >= 0);
  if (!ok) throw new RangeError(`heartbeat watch: ${name} must be a finite number ${rule}, got ${String(value)}`);
}
