import { performance } from "node:perf_hooks";
import type { Clock, TimerHandle } from "../core/clock.js";

/**
 * A timer of 0 ms runs on the next turn of the event loop (setImmediate): Node makes setTimeout(fn, 0)
 * wait at least 1 ms, which was a third of a restart with `backoff: { initial: 0 }`. Such a timer is
 * handed out wrapped, to be told apart; a Timeout is handed out as it is (the heartbeat monitor arms
 * about a thousand a second at 1,000 services).
 */
type RealTimer = { readonly immediate: NodeJS.Immediate } | LongTimer | NodeJS.Timeout;

/**
 * Node fires a setTimeout of more than 2^31-1 ms after 1 ms. The manifest refuses such durations, but
 * a library user's, or a sum of two, may still be longer: it is waited out in steps that Node keeps.
 */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

interface LongTimer {
  current: NodeJS.Timeout;
}

function longTimer(delayMs: number, fn: () => void): LongTimer {
  let leftMs = delayMs;
  const step = (): void => {
    leftMs -= MAX_TIMEOUT_MS;
    timer.current = leftMs > MAX_TIMEOUT_MS ? setTimeout(step, MAX_TIMEOUT_MS) : setTimeout(fn, leftMs);
  };
  const timer: LongTimer = { current: setTimeout(step, MAX_TIMEOUT_MS) };
  return timer;
}

export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer: (delayMs, fn) => {
    const timer: RealTimer =
      delayMs > MAX_TIMEOUT_MS ? longTimer(delayMs, fn)
      : delayMs > 0 ? setTimeout(fn, delayMs)
      : { immediate: setImmediate(fn) };
    return timer as unknown as TimerHandle;
  },
  clearTimer: (handle) => {
    const timer = handle as unknown as RealTimer;
    if ("immediate" in timer) clearImmediate(timer.immediate);
    else if ("current" in timer) clearTimeout(timer.current);
    else clearTimeout(timer);
  },
};

/** A monotonic instant as wall-clock ISO time, for the status document. */
export function toIso(clock: Clock, monotonicMs: number | null): string | null {
  if (monotonicMs === null) return null;
  return new Date(clock.wallNow() - (clock.now() - monotonicMs)).toISOString();
}
