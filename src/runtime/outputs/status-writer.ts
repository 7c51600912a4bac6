import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { writeFileAtomic } from "../state/atomic-file.js";
import { unreported, type WriteReport } from "../state/problems.js";

/** after a failed write (a full disk), the next try comes this much later even if nothing changes */
const RETRY_MS = 1000;

/** figures that only drift (beats, samples) reach the file within this at the soonest */
export const DRIFT_DELAY_MS = 1_000;
/**
 * A larger file is rewritten at no more than this many bytes a second: status.json of 1,000 services is
 * about 500 KB, which rewritten every second was a quarter of the supervisor's CPU with 1,000 services
 * beating (rendering, and the collector for what it left behind) and 40 GB a day of disk writes that
 * nobody read. A change of state or health is written at once (markDirty), whatever the size.
 */
export const DRIFT_BYTES_PER_S = 64 * 1024;
/** while someone watches live figures: the pace at which a dashboard's stream passes the file on (live-feed.ts) */
export const WATCHED_DRIFT_DELAY_MS = 2_000;

/** How soon drifting figures are written, for a file of `writtenBytes`: see DRIFT_BYTES_PER_S. */
export function driftDelayMs(writtenBytes: number, watched: boolean): number {
  const bySize = Math.max(DRIFT_DELAY_MS, Math.ceil((1000 * writtenBytes) / DRIFT_BYTES_PER_S));
  return watched ? Math.min(bySize, WATCHED_DRIFT_DELAY_MS) : bySize;
}

/**
 * Writes a text file atomically (temp file + rename) whenever it is marked dirty and its text has
 * changed; bursts of changes coalesce into one write, there is never more than one write in flight,
 * and successive writes start at least `minIntervalMs` apart (a start of 1,000 services is 3,000 changes, each worth a rewrite of
 * a document of 1,000 services).
 */
export class AtomicJsonWriter {
  private dirty = false;
  private writing: Promise<void> | null = null;
  private staleTimer: NodeJS.Timeout | null = null;
  private lastStartMs = -Infinity;
  private settling = false;
  /** the size and SHA-256 of what the file holds now (null before the first write) */
  private written: { bytes: number; digest: Buffer } | null = null;
  /** where each text is encoded, kept from one write to the next (one write is in flight at most) */
  private buffer = Buffer.alloc(0);

  constructor(
    private readonly path: string,
    /** the whole text of the file, rendered when a write begins: one string, or its pieces in order */
    private readonly render: () => string | readonly string[] | Promise<string | readonly string[]>,
    private readonly minIntervalMs = 0,
    private readonly report: WriteReport = unreported,
  ) {}

  /** a write of drifting figures is already due (markStale would do nothing) */
  get stalePending(): boolean {
    return this.staleTimer !== null;
  }

  /** the size of the file as last written (0 before the first write) */
  get writtenBytes(): number {
    return this.written?.bytes ?? 0;
  }

  markDirty(): void {
    this.dirty = true;
    if (!this.writing) this.writing = this.drain();
  }

  /** For figures that change all the time (beats): written within `ms`, not on every change. */
  markStale(ms: number): void {
    if (this.staleTimer) return;
    this.staleTimer = setTimeout(() => {
      this.staleTimer = null;
      this.markDirty();
    }, ms);
    this.staleTimer.unref();
  }

  /** resolves once everything marked so far is on disk */
  async settle(): Promise<void> {
    if (this.staleTimer) {
      clearTimeout(this.staleTimer);
      this.staleTimer = null;
    }
    this.settling = true;
    try {
      while (this.writing) await this.writing;
    } finally {
      this.settling = false;
    }
  }

  /**
   * The text and its newline as UTF-8, in the writer's one buffer: a status of 1,000 services is some
   * hundreds of kilobytes a second, which as new strings and buffers each time would land in the old
   * generation and keep its collector busy. What the file holds is known by its digest, not by a
   * second copy: 0.35 ms to hash 600 KB against 730 KB of memory kept all day (BENCHMARKS.md).
   */
  private encode(text: string | readonly string[]): Buffer {
    const pieces = typeof text === "string" ? [text] : text;
    let size = 1;
    for (const piece of pieces) size += Buffer.byteLength(piece);
    let buffer = this.buffer;
    if (buffer.length < size) buffer = this.buffer = Buffer.allocUnsafeSlow(Math.ceil(size * 1.25));
    let at = 0;
    for (const piece of pieces) at += buffer.write(piece, at);
    buffer[at++] = 0x0a;
    return buffer.subarray(0, at);
  }

  private async drain(): Promise<void> {
    try {
      // let the rest of this turn's changes land first
      await new Promise((resolve) => setImmediate(resolve));
      while (this.dirty) {
        const waitMs = this.lastStartMs + this.minIntervalMs - performance.now();
        if (waitMs > 0 && !this.settling) await new Promise((resolve) => setTimeout(resolve, waitMs));
        this.dirty = false;
        this.lastStartMs = performance.now();
        const bytes = this.encode(await this.render());
        const digest = createHash("sha256").update(bytes).digest();
        // the same text as on disk (the samples of idle children, a timer that changed nothing): no write
        if (this.written !== null && this.written.bytes === bytes.length && digest.equals(this.written.digest)) continue;
        await writeFileAtomic(this.path, bytes);
        this.written = { bytes: bytes.length, digest };
        this.report.succeeded();
      }
    } catch (err) {
      // a full disk must not stop supervision: it is reported, and the file is tried again soon,
      // whether or not anything changes meanwhile, so that its end is seen too
      this.report.failed(err, this.path);
      if (!this.settling) this.markStale(RETRY_MS);
    } finally {
      this.writing = null;
    }
  }
}
