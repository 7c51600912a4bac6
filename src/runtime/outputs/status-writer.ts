import { performance } from "node:perf_hooks";
import { writeFileAtomic } from "../state/atomic-file.js";
import { unreported, type WriteReport } from "../state/problems.js";

/** after a failed write (a full disk), the next try comes this much later even if nothing changes */
const RETRY_MS = 1000;

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
  /** the text last written, to skip a write that would change nothing */
  private written: string | null = null;

  constructor(
    private readonly path: string,
    /** the whole text of the file, rendered when a write begins */
    private readonly render: () => string | Promise<string>,
    private readonly minIntervalMs = 0,
    private readonly report: WriteReport = unreported,
  ) {}

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

  private async drain(): Promise<void> {
    try {
      // let the rest of this turn's changes land first
      await new Promise((resolve) => setImmediate(resolve));
      while (this.dirty) {
        const waitMs = this.lastStartMs + this.minIntervalMs - performance.now();
        if (waitMs > 0 && !this.settling) await new Promise((resolve) => setTimeout(resolve, waitMs));
        this.dirty = false;
        this.lastStartMs = performance.now();
        const text = `${await this.render()}\n`;
        // the same text as on disk (the samples of idle children, a timer that changed nothing): no write
        if (text === this.written) continue;
        await writeFileAtomic(this.path, text);
        this.written = text;
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
