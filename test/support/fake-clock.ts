// A Clock that moves only when a test says so: advance(ms) runs due timers in time order.
import type { Clock, TimerHandle } from "../../src/core/clock.js";

/** 2026-11-22T10:00:00.000Z, the SPEC's example start time */
export const FAKE_EPOCH_MS = Date.UTC(2026, 10, 22, 10, 0, 0);

type FakeTimer = { readonly seq: number; readonly dueMs: number; readonly fn: () => void };

export class FakeClock implements Clock {
  #nowMs: number;
  readonly #epochMs: number;
  #seq = 0;
  readonly #timers = new Map<number, FakeTimer>();
  /** every setTimer() call so far, to prove that a hot path creates none */
  created = 0;
  cleared = 0;

  constructor({ startMs = 0, epochMs = FAKE_EPOCH_MS }: { startMs?: number; epochMs?: number } = {}) {
    this.#nowMs = startMs;
    this.#epochMs = epochMs;
  }

  now(): number {
    return this.#nowMs;
  }

  wallNow(): number {
    return this.#epochMs + this.#nowMs;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const seq = ++this.#seq;
    this.#timers.set(seq, { seq, dueMs: this.#nowMs + Math.max(0, delayMs), fn });
    this.created++;
    return seq as unknown as TimerHandle;
  }

  clearTimer(handle: TimerHandle): void {
    if (this.#timers.delete(handle as unknown as number)) this.cleared++;
  }

  /** timers set and neither fired nor cleared */
  pending(): number {
    return this.#timers.size;
  }

  /** monotonic time of the earliest pending timer, or null */
  nextDueMs(): number | null {
    return this.#earliest()?.dueMs ?? null;
  }

  /** Moves time forward, firing each timer at its own due time, including timers set by timers. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(ms) needs ms ≥ 0, got ${ms}`);
    const targetMs = this.#nowMs + ms;
    for (let next = this.#earliest(); next && next.dueMs <= targetMs; next = this.#earliest()) {
      this.#timers.delete(next.seq);
      this.#nowMs = next.dueMs;
      next.fn();
    }
    this.#nowMs = targetMs;
  }

  /**
   * A stalled event loop: time moves by `ms` with no timer running, then the timers that came due run
   * late, in order, all seeing the new time (as a real loop catching up does).
   */
  stall(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`stall(ms) needs ms ≥ 0, got ${ms}`);
    this.#nowMs += ms;
    for (let next = this.#earliest(); next && next.dueMs <= this.#nowMs; next = this.#earliest()) {
      this.#timers.delete(next.seq);
      next.fn();
    }
  }

  /** advance() to an absolute monotonic time */
  advanceTo(ms: number): void {
    this.advance(ms - this.#nowMs);
  }

  #earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers.values()) {
      if (!best || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
