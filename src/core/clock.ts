// Monotonic milliseconds and timers, injected so that decisions can be tested without real time.
declare const timerBrand: unique symbol;
export type TimerHandle = { readonly [timerBrand]: true };

export interface Clock {
  /** monotonic milliseconds; only differences are meaningful */
  now(): number;
  /** wall-clock milliseconds since the epoch, for logs and the status document only */
  wallNow(): number;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}
