import type { ResourcePoint, ServiceSample } from "./sampler.js";

/** atMs, cpuPercent, rssBytes: what the history series shows */
const FIELDS = 3;

/**
 * The last `size` samples of one service as points of the history series, flat in one Float64Array
 * (a null percent as NaN): kept as objects, 60 samples of 1,000 services were 60,000 objects and 6 MiB
 * of the supervisor's heap; as six fields each, 2.9 MB.
 */
export class SampleRing {
  readonly #data: Float64Array;
  readonly #size: number;
  #start = 0;
  #count = 0;

  constructor(size: number) {
    this.#size = size;
    this.#data = new Float64Array(size * FIELDS);
  }

  push(s: ServiceSample): void {
    if (this.#size === 0) return;
    let slot: number;
    if (this.#count < this.#size) slot = (this.#start + this.#count++) % this.#size;
    else {
      slot = this.#start;
      this.#start = (this.#start + 1) % this.#size;
    }
    const d = this.#data;
    const at = slot * FIELDS;
    d[at] = s.atMs;
    d[at + 1] = s.cpuPercent ?? NaN;
    d[at + 2] = s.rssBytes;
  }

  /**
   * The series of the status document as JSON text, oldest first:
   * `[{"at":ISO,"cpu_percent":N|null,"memory_bytes":N},…]`, the same text JSON.stringify writes for those
   * objects, without making them (a status with history of 1,000 services is 60,000 points).
   */
  historyJson(isoOf: (atMs: number) => string): string {
    const d = this.#data;
    let text = "[";
    for (let i = 0; i < this.#count; i++) {
      const at = ((this.#start + i) % this.#size) * FIELDS;
      text += `${i === 0 ? "" : ","}{"at":${JSON.stringify(isoOf(d[at]!))},"cpu_percent":${jsonNumber(d[at + 1]!)},"memory_bytes":${jsonNumber(d[at + 2]!)}}`;
    }
    return `${text}]`;
  }

  /** oldest first */
  toArray(): ResourcePoint[] {
    const d = this.#data;
    const out: ResourcePoint[] = [];
    for (let i = 0; i < this.#count; i++) {
      const at = ((this.#start + i) % this.#size) * FIELDS;
      out.push({ atMs: d[at]!, cpuPercent: orNull(d[at + 1]!), rssBytes: d[at + 2]! });
    }
    return out;
  }
}

/** what JSON.stringify writes for the number: NaN (a null percent) and the infinities as null */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : "null";
}

function orNull(n: number): number | null {
  return Number.isNaN(n) ? null : n;
}
