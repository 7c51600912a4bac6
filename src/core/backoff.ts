import type { BackoffConfig } from "../manifest/types.js";

/**
 * Delay before restart number `attempt` (0-based): initial × factor^attempt, capped at max, spread by
 * ±jitter. `random` is a uniform draw in [0, 1), passed in so the result is reproducible.
 */
export function backoffDelayMs(backoff: BackoffConfig, attempt: number, random: number): number {
  // initial 0 means "at once" forever: 0 × factor^attempt would be NaN once the power overflows
  const raw = backoff.initialMs === 0 ? 0 : backoff.initialMs * Math.pow(backoff.factor, attempt);
  const capped = Math.min(backoff.maxMs, Number.isFinite(raw) ? raw : backoff.maxMs);
  const spread = capped * backoff.jitter * (2 * random - 1);
  return Math.round(Math.max(0, Math.min(backoff.maxMs, capped + spread)));
}

/** The attempt counter to use after a child ran for `ranMs`: a long enough run forgives past failures. */
export function attemptAfterRun(backoff: BackoffConfig, attempt: number, ranMs: number | null): number {
  return ranMs !== null && ranMs >= backoff.resetAfterMs ? 0 : attempt;
}
