// Health from heartbeat age (SPEC §3), as pure functions of the age, the interval and `misses`.
import type { Health } from "./types.js";

/** The levels a beating service moves through as its last beat ages. */
export type BeatHealth = Exclude<Health, "unknown">;
export type UnhealthyLevel = Exclude<BeatHealth, "healthy">;

/** Order for "at or above": healthy < degraded < critical < failed; unknown ranks below all. */
export const HEALTH_SEVERITY: Readonly<Record<Health, number>> = {
  unknown: -1,
  healthy: 0,
  degraded: 1,
  critical: 2,
  failed: 3,
};

export function isAtLeast(health: Health, level: Health): boolean {
  return HEALTH_SEVERITY[health] >= HEALTH_SEVERITY[level];
}

/**
 * healthy while age < 1× interval, degraded until 2×, critical until misses×, failed from misses×.
 * With misses ≤ 2 failed comes first and the later levels are never reached.
 */
export function healthAt(ageMs: number, intervalMs: number, misses: number): BeatHealth {
  if (ageMs >= misses * intervalMs) return "failed";
  if (ageMs >= 2 * intervalMs) return "critical";
  if (ageMs >= intervalMs) return "degraded";
  return "healthy";
}

/** Milliseconds until healthAt() gives another level, or null once failed. */
export function nextChangeInMs(ageMs: number, intervalMs: number, misses: number): number | null {
  const failedAtMs = misses * intervalMs;
  if (ageMs >= failedAtMs) return null;
  let nextAtMs = failedAtMs;
  for (const atMs of [intervalMs, 2 * intervalMs]) {
    if (atMs > ageMs && atMs < nextAtMs) nextAtMs = atMs;
  }
  return nextAtMs - ageMs;
}

/** Every level healthAt() passes through, in order, for this interval and misses. */
export function healthLadder(intervalMs: number, misses: number): readonly BeatHealth[] {
  const failedAtMs = misses * intervalMs;
  const ladder: BeatHealth[] = ["healthy"];
  if (intervalMs < failedAtMs) ladder.push("degraded");
  if (2 * intervalMs < failedAtMs) ladder.push("critical");
  ladder.push("failed");
  return ladder;
}

/** Before the first beat: beats are required (→ failed) this long after the watch started. */
export function startupDeadlineMs(intervalMs: number, misses: number, startupGraceMs: number): number {
  return Math.max(startupGraceMs, misses * intervalMs);
}

/** Health of a watch that has not beaten yet, `sinceWatchMs` after it started. */
export function startupHealthAt(
  sinceWatchMs: number,
  intervalMs: number,
  misses: number,
  startupGraceMs: number,
): "unknown" | "failed" {
  return sinceWatchMs >= startupDeadlineMs(intervalMs, misses, startupGraceMs) ? "failed" : "unknown";
}
