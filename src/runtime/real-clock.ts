import { performance } from "node:perf_hooks";
import type { Clock, TimerHandle } from "../core/clock.js";

export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer: (delayMs, fn) => setTimeout(fn, delayMs) as unknown as TimerHandle,
  clearTimer: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
};

/** A monotonic instant as wall-clock ISO time, for the status document. */
export function toIso(clock: Clock, monotonicMs: number | null): string | null {
  if (monotonicMs === null) return null;
  return new Date(clock.wallNow() - (clock.now() - monotonicMs)).toISOString();
}
