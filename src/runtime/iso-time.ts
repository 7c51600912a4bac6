// ISO 8601 text of instants, cheaply: Date#toISOString costs close to a microsecond, and a status
// document of 1,000 services, the per-line timestamps of children's logs and the event journal ask
// for thousands of them a second. Each user keeps its own formatter (no state shared by the module).
import type { Clock } from "../core/clock.js";
import type { TimeText } from "../core/stack/status.js";

/** the last year whose dates toISOString writes with four digits */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;

/** new Date(wallMs).toISOString(), formatting only the seconds and milliseconds for a minute seen before */
export class WallIso {
  #minuteStartMs = NaN;
  #minutePrefix = "";

  of(wallMs: number): string {
    if (!Number.isInteger(wallMs) || wallMs < 0 || wallMs > LAST_FOUR_DIGIT_YEAR_MS) return new Date(wallMs).toISOString();
    const intoMinute = wallMs % 60_000;
    const start = wallMs - intoMinute;
    if (start !== this.#minuteStartMs) {
      this.#minuteStartMs = start;
      // "2026-11-22T10:00:"
      this.#minutePrefix = new Date(start).toISOString().slice(0, 17);
    }
    const seconds = Math.floor(intoMinute / 1000);
    const millis = intoMinute % 1000;
    return `${this.#minutePrefix}${seconds < 10 ? "0" : ""}${seconds}.${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
  }
}

/**
 * Monotonic instants as ISO text, each formatted once. A status document of 1,000 services holds about
 * 3,000 such dates (spawn times, exits, the history's sweep times), nearly all of them the same as in
 * the document before.
 */
export class IsoMemo implements TimeText {
  readonly #texts = new Map<number, string>();
  readonly #wall = new WallIso();

  constructor(
    private readonly clock: Clock,
    /** distinct instants kept; past it, the memo starts over */
    private readonly max = 8192,
  ) {}

  ofMonotonic(monotonicMs: number | null): string | null {
    if (monotonicMs === null) return null;
    let text = this.#texts.get(monotonicMs);
    if (text === undefined) {
      if (this.#texts.size >= this.max) this.#texts.clear();
      text = new Date(this.clock.wallNow() - (this.clock.now() - monotonicMs)).toISOString();
      this.#texts.set(monotonicMs, text);
    }
    return text;
  }

  ofWall(wallMs: number): string {
    return this.#wall.of(wallMs);
  }
}
