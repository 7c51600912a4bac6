import type { RestartConfig, RestartPolicy } from "../manifest/types.js";
import { attemptAfterRun, backoffDelayMs } from "./backoff.js";
import { addRestart } from "./restart-window.js";
import type { ExitInfo } from "./types.js";

export type RestartDecision =
  | { readonly kind: "done" }
  | { readonly kind: "fatal"; readonly restartsInWindow: number }
  | {
      readonly kind: "restart";
      readonly delayMs: number;
      /** the backoff step after this restart */
      readonly attempt: number;
      readonly restartTimes: readonly number[];
    };

/** A child ended on its own or was ended for misbehaving: is it restarted, and when? */
export function shouldRestart(policy: RestartPolicy, exit: ExitInfo): boolean {
  switch (policy) {
    case "always":
      return true;
    case "never":
      return false;
    case "on-failure":
      return exit.reason !== "exit" || exit.code !== 0;
  }
}

export interface RestartHistory {
  readonly attempt: number;
  readonly restartTimes: readonly number[];
  /** how long the child that ended had run, or null if it never started */
  readonly ranMs: number | null;
}

export function decideRestart(
  config: RestartConfig,
  exit: ExitInfo,
  history: RestartHistory,
  nowMs: number,
  random: number,
): RestartDecision {
  if (!shouldRestart(config.policy, exit)) return { kind: "done" };
  const attempt = attemptAfterRun(config.backoff, history.attempt, history.ranMs);
  const window = addRestart(history.restartTimes, nowMs, config.windowMs, config.maxRestarts);
  if (window.exceeded) return { kind: "fatal", restartsInWindow: window.times.length };
  return {
    kind: "restart",
    delayMs: backoffDelayMs(config.backoff, attempt, random),
    attempt: attempt + 1,
    restartTimes: window.times,
  };
}
