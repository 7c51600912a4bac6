// How late the supervisor's own event loop runs: a timer asks to fire every second, and how much later
// than asked it fires is the lag (a long step, a stalled disk write, the garbage collector). One timer a
// second, so an idle supervisor stays idle; the last minute's worst is kept.
import type { Clock, TimerHandle } from "../core/clock.js";

export const LAG_PERIOD_MS = 1_000;
/** the loop is taken as unwell when it ran this late within the last minute */
export const UNHEALTHY_LAG_MS = 1_000;
const KEPT = 60;

export interface LoopLagDoc {
  /** how late the last tick came */
  readonly loop_lag_ms: number;
  /** the worst of the last minute */
  readonly loop_lag_max_ms: number;
}

export class LoopLag {
  readonly #clock: Clock;
  readonly #lags: number[] = [];
  #timer: TimerHandle | null = null;
  #dueMs = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  start(): void {
    if (this.#timer !== null) return;
    this.#arm();
  }

  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
  }

  doc(): LoopLagDoc {
    return { loop_lag_ms: Math.round(this.#lags.at(-1) ?? 0), loop_lag_max_ms: Math.round(Math.max(0, ...this.#lags)) };
  }

  #arm(): void {
    this.#dueMs = this.#clock.now() + LAG_PERIOD_MS;
    this.#timer = this.#clock.setTimer(LAG_PERIOD_MS, () => {
      this.#lags.push(Math.max(0, this.#clock.now() - this.#dueMs));
      if (this.#lags.length > KEPT) this.#lags.shift();
      this.#arm();
    });
  }
}
