// The last beats of one watch, for history queries.

/** the most beats `heartbeat.history` may keep per instance */
export const MAX_BEAT_HISTORY = 1_000;
/** `atMs` is monotonic, `wallMs` epoch time */
export type BeatRecord = { readonly atMs: number; readonly wallMs: number; readonly data: unknown };

/**
 * The last `size` beats; a push overwrites the oldest in place. Times are kept flat and records made
 * only when history() asks: a record object per beat, kept for 100 beats, was 100,000 long-lived
 * objects at 1,000 services beating once a second, and the garbage collector's steady work. The times'
 * array is made at the first beat: every instance has a ring, and most services never beat (1,000 of
 * them held 1.6 MB of empty rings).
 */
export class BeatRing {
  readonly #size: number;
  /** atMs, wallMs of each slot; made at the first beat */
  #times: Float64Array | null = null;
  /** made once some beat carries data */
  #data: unknown[] | null = null;
  #start = 0;
  #count = 0;
  constructor(size: number) {
    this.#size = size;
  }

  get size(): number {
    return this.#size;
  }

  /** the bytes its times take: none before the first beat */
  get timesBytes(): number {
    return this.#times?.byteLength ?? 0;
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
    const times = (this.#times ??= new Float64Array(size * 2));
    times[slot * 2] = atMs;
    times[slot * 2 + 1] = wallMs;
    if (data !== undefined && this.#data === null) this.#data = new Array<unknown>(size);
    if (this.#data !== null) this.#data[slot] = data;
  }

  /** the kept beats with wallMs in [sinceWallMs, untilWallMs], oldest first */
  between(sinceWallMs: number, untilWallMs: number): BeatRecord[] {
    const out: BeatRecord[] = [];
    const times = this.#times;
    if (times === null) return out;
    for (let i = 0; i < this.#count; i++) {
      const slot = (this.#start + i) % this.#size;
      const wallMs = times[slot * 2 + 1]!;
      if (wallMs >= sinceWallMs && wallMs <= untilWallMs) out.push({ atMs: times[slot * 2]!, wallMs, data: this.#data?.[slot] });
    }
    return out;
  }
}
