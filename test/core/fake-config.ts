// Manifest fragments for core tests: the SPEC §2 defaults, with jitter 0 so that delays are exact.
import type { BackoffConfig, RestartConfig, StopConfig } from "../../src/manifest/types.js";

export function backoffConfig(overrides: Partial<BackoffConfig> = {}): BackoffConfig {
  return { initialMs: 200, factor: 2, maxMs: 30_000, jitter: 0, resetAfterMs: 60_000, ...overrides };
}

export function restartConfig(
  overrides: Partial<Omit<RestartConfig, "backoff">> & { backoff?: Partial<BackoffConfig> } = {},
): RestartConfig {
  const { backoff, ...rest } = overrides;
  return { policy: "on-failure", maxRestarts: 10, windowMs: 300_000, mode: "stop-first", readyTimeoutMs: 30_000, ...rest, backoff: backoffConfig(backoff) };
}

export function stopConfig(overrides: Partial<StopConfig> = {}): StopConfig {
  return { signal: "SIGTERM", timeoutMs: 10_000, ...overrides };
}
