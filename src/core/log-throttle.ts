// A log line at a bounded rate, per key: the first at once, then at most one per quietMs, each saying
// how many were held back since the last. A flood costs a counter, not a log line. Time is passed in.

export class LogThrottle<K> {
  private readonly heldBack = new Map<K, number>();
  private readonly quietUntilMs = new Map<K, number>();

  constructor(private readonly quietMs: number) {}

  /** How many were held back before this one when it may be logged at nowMs; null when it is held back too. */
  admit(key: K, nowMs: number): number | null {
    if (nowMs < (this.quietUntilMs.get(key) ?? -Infinity)) {
      this.heldBack.set(key, (this.heldBack.get(key) ?? 0) + 1);
      return null;
    }
    const held = this.heldBack.get(key) ?? 0;
    this.heldBack.delete(key);
    this.quietUntilMs.set(key, nowMs + this.quietMs);
    return held;
  }
}
