// The last beats of one watch, for history queries.

/** the most beats `heartbeat.history` may keep per instance */
export const MAX_BEAT_HISTORY = 1_000;
/** `atMs` is monotonic, `wallMs` epoch time */
export type BeatRecord = { readonly atMs: number; readonly wallMs: number; readonly data: unknown };

/**
 * The last `size` beats; a push overwrites the oldest in place. Times are kept flat and records made
 * only when history() asks: a record object per beat, kept for 100 beats, was 100,000 long-lived
 * objects at 1,000 services beating once a second, and the garbage collector's steady work.
 */
export class BeatRing {
  readonly #size: number;
  /** atMs, wallMs of each slot */
  readonly #times: Float64Array;
  /** made once some beat carries data */
  #data: unknown[] | null = null;
  #start = 0;
  #count = 0;
  constructor(size: number) {
    this.#size = size;
    this.#times = new Float64Array(size * 2);
  }

  get size(): number {
    return this.#size;
  }

  push(atMs: number, wallMs: number, data: unknown): void {
    const size = this.#size;
    if (size === 0) return;
    let slot: number;
    if (this.#count < size) slot = (this.#start + this.#count++) % size;
    else {
      slot = this.#start;
      this.#start = (this.#start + 1) % size;
    }
    this.#times[slot * 2] = atMs;
    this.#times[slot * 2 + 1] = wallMs;
    if (data !== undefined && this.#data === null) this.#data = new Array<unknown>(size);
    if (this.#data !== null) this.#data[slot] = data;
  }

  /** the kept beats with wallMs in [sinceWallMs, untilWallMs], oldest first */
  between(sinceWallMs: number, untilWallMs: number): BeatRecord[] {
    const out: BeatRecord[] = [];
    for (let i = 0; i < this.#count; i++) {
      const slot = (this.#start + i) % this.#size;
      const wallMs = this.#times[slot * 2 + 1]!;
      if (wallMs >= sinceWallMs && wallMs <= untilWallMs) out.push({ atMs: this.#times[slot * 2]!, wallMs, data: this.#data?.[slot] });
    }
    return out;
  }
}
