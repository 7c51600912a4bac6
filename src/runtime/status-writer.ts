import { rename, writeFile } from "node:fs/promises";

/**
 * Writes a JSON document atomically (temp file + rename) whenever it is marked dirty; bursts of changes
 * coalesce into one write, and there is never more than one write in flight.
 */
export class AtomicJsonWriter {
  private dirty = false;
  private writing: Promise<void> | null = null;
  private staleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly render: () => unknown,
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
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      // let the rest of this turn's changes land first
      await new Promise((resolve) => setImmediate(resolve));
      while (this.dirty) {
        this.dirty = false;
        const tmp = `${this.path}.${process.pid}.tmp`;
        await writeFile(tmp, `${JSON.stringify(this.render(), null, 2)}\n`, { mode: 0o600 });
        await rename(tmp, this.path);
      }
    } catch {
      // a full disk must not stop supervision; the next change tries again
    } finally {
      this.writing = null;
    }
  }
}
