// STATE_DIR/logs/NAME.log with size-based rotation. Lines are collected and written through one append
// fd, at the end of the turn they were written in, and no sooner than WRITE_INTERVAL_MS after the
// file's write before: a chatty child costs one write per turn at most, not one per line, and a service
// restarting back to back (the journal and vigil.log get lines at each restart) one write per interval,
// not one per turn. Lines keep their order; flush() and close() write what waits at once.
//
// The write itself is made on the loop (write(2) on the open descriptor, a page-cache copy of a few
// kilobytes), not through the thread pool: on two cores a crash loop's round trips to the pool (two
// logs, a hundred writes a second each) cost each restart about a third of a millisecond of waiting
// (BENCHMARKS.md, "Log writes on the loop"). Opening and rotating still go through the pool, and a
// write that was slow (a disk holding writers back) sends the file's writes there for a minute.
import { performance } from "node:perf_hooks";
import { writeSync } from "node:fs";
import { mkdir, rename, unlink, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import type { Gate } from "../state/gate.js";
import type { WriteReport } from "../state/problems.js";
import { openStateFile } from "../state/state-dir.js";

/** How logs treat their descriptors (FdBudget decides). */
export interface LogFdPolicy {
  /** false while descriptors are scarce: a log's file is then closed after each write */
  holdFiles(): boolean;
  /** and meanwhile the writes, each opening its file, go through this gate a few at a time */
  readonly gate: Gate;
}

/** What the stack tells every service's log. */
export interface LogFileHooks {
  /** told of every write's outcome (a full disk, and its end) */
  readonly report?: WriteReport;
  readonly fds?: LogFdPolicy;
}

export interface RotatingLogOptions extends LogFileHooks {
  /** rotate when the file would pass this size */
  readonly maxBytes: number;
  /** rotated files kept: NAME.log.1 … NAME.log.KEEP */
  readonly keep: number;
  /** lines waiting beyond this are dropped (and counted) while the disk lags; default 16 MiB */
  readonly maxQueuedBytes?: number;
  /** failures of the writes that run by themselves */
  readonly onError?: (err: unknown) => void;
  /** successive writes start at least this far apart; default WRITE_INTERVAL_MS */
  readonly writeIntervalMs?: number;
  /** a write slower than this sends the next ones through the thread pool for a while; default SLOW_WRITE_MS */
  readonly slowWriteMs?: number;
}

/** successive writes of one file start at least this far apart (one write(2) a batch, however many lines) */
const WRITE_INTERVAL_MS = 10;
/**
 * A write that took longer than this (a disk that cannot keep up: the kernel holds a writer back
 * when too much waits to be written) sends the file's writes through the thread pool for
 * POOL_AFTER_SLOW_MS, so that the loop (deadlines, heartbeats) does not wait on that disk.
 */
const SLOW_WRITE_MS = 20;
const POOL_AFTER_SLOW_MS = 60_000;

export class RotatingLog {
  private queue: string[] = [];
  private queuedBytes = 0;
  private droppedLines = 0;
  /** lines whose write failed (a full disk): counted, and said in the file once it can be written */
  private lostLines = 0;
  private file: FileHandle | null = null;
  private size = 0;
  private scheduled = false;
  /** the write waiting for the interval to pass */
  private timer: NodeJS.Timeout | null = null;
  private lastWriteAtMs = -Infinity;
  /** until when writes go through the thread pool, after a slow one */
  private poolUntilMs = -Infinity;
  private writing: Promise<void> | null = null;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly options: RotatingLogOptions,
  ) {
    if (!(options.maxBytes > 0)) throw new RangeError(`maxBytes must be > 0, got ${options.maxBytes}`);
    if (!Number.isInteger(options.keep) || options.keep < 0) throw new RangeError(`keep must be an integer >= 0, got ${options.keep}`);
  }

  /** Appends line + "\n" soon; lines written after close() are dropped. */
  write(line: string): void {
    if (this.closed) return;
    const bytes = Buffer.byteLength(line) + 1;
    if (this.queuedBytes + bytes > (this.options.maxQueuedBytes ?? 16 * 1024 * 1024)) {
      this.droppedLines++;
      return;
    }
    this.queue.push(line);
    this.queuedBytes += bytes;
    if (!this.scheduled) {
      this.scheduled = true;
      const waitMs = this.lastWriteAtMs + (this.options.writeIntervalMs ?? WRITE_INTERVAL_MS) - performance.now();
      if (waitMs > 0) this.timer = setTimeout(this.flushScheduled, waitMs);
      else setImmediate(this.flushScheduled);
    }
  }

  private readonly flushScheduled = (): void => {
    this.scheduled = false;
    this.timer = null;
    this.flush().catch((err) => this.options.onError?.(err));
  };

  /** Resolves once every line written so far is in the file; one write in flight at most. */
  flush(): Promise<void> {
    const fds = this.options.fds;
    this.writing ??= (fds && !fds.holdFiles() ? fds.gate.run(() => this.drain()) : this.drain()).finally(() => {
      this.writing = null;
    });
    return this.writing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.scheduled = false;
    await this.flush();
    const file = this.file;
    this.file = null;
    await file?.close();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 || this.droppedLines > 0) {
      const { queue, droppedLines: dropped, lostLines: lost } = this;
      // the queue as it is, unless there is something to say about lines that are not in it
      const lines =
        lost === 0 && dropped === 0
          ? queue
          : [
              ...(lost > 0 ? [`[vigil: ${lost} lines lost, the log could not be written]`] : []),
              ...queue,
              ...(dropped > 0 ? [`[vigil: ${dropped} lines dropped, the log could not keep up]`] : []),
            ];
      this.queue = [];
      this.queuedBytes = 0;
      this.droppedLines = 0;
      this.lostLines = 0;
      this.lastWriteAtMs = performance.now();
      try {
        await this.writeLines(lines);
      } catch (err) {
        // the batch is gone (part of it may be in the file): counted, to be said once a write works
        this.lostLines = lost + queue.length + dropped;
        this.options.report?.failed(err, this.path);
        await this.releaseFile();
        throw err;
      }
      this.options.report?.succeeded();
    }
    if (this.options.fds?.holdFiles() === false) await this.releaseFile();
  }

  private async releaseFile(): Promise<void> {
    const file = this.file;
    this.file = null;
    await file?.close().catch(() => undefined);
  }

  private async writeLines(lines: string[]): Promise<void> {
    await this.openFile(); // for the size of a file that already exists
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.from(`${line}\n`);
      if (this.size + batchBytes + bytes.length > this.options.maxBytes && this.size + batchBytes > 0) {
        await this.append(batch);
        await this.rotate();
        batch = [];
        batchBytes = 0;
      }
      batch.push(bytes);
      batchBytes += bytes.length;
    }
    await this.append(batch);
  }

  private async append(batch: Buffer[]): Promise<void> {
    if (batch.length === 0) return;
    const file = await this.openFile();
    const bytes = batch.length === 1 ? batch[0]! : Buffer.concat(batch);
    try {
      // a disk at the brink takes part of a write; the rest then fails with ENOSPC
      for (let offset = 0; offset < bytes.length; ) {
        const bytesWritten = await this.writeAt(file, bytes, offset);
        if (bytesWritten === 0) throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: "ENOSPC" });
        offset += bytesWritten;
      }
    } catch (err) {
      // reopen next time: the fd may be what broke
      this.file = null;
      await file.close().catch(() => undefined);
      throw err;
    }
    this.size += bytes.length;
  }

  /**
   * One write(2) of what is left of `bytes` from `offset`: on the loop itself while the file's writes
   * are quick, through the thread pool for a while after one was not
   */
  private async writeAt(file: FileHandle, bytes: Buffer, offset: number): Promise<number> {
    const start = performance.now();
    if (start < this.poolUntilMs) return (await file.write(bytes, offset, bytes.length - offset)).bytesWritten;
    const written = writeSync(file.fd, bytes, offset, bytes.length - offset);
    const end = performance.now();
    if (end - start > (this.options.slowWriteMs ?? SLOW_WRITE_MS)) this.poolUntilMs = end + POOL_AFTER_SLOW_MS;
    return written;
  }

  /** whether the file's writes go through the thread pool now (one write was slow a moment ago) */
  get writesThroughPool(): boolean {
    return performance.now() < this.poolUntilMs;
  }

  private async openFile(): Promise<FileHandle> {
    if (this.file) return this.file;
    let file: FileHandle;
    try {
      file = await openStateFile(this.path, "append");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      file = await openStateFile(this.path, "append");
    }
    this.size = (await file.stat()).size;
    this.file = file;
    return file;
  }

  private async rotate(): Promise<void> {
    const file = this.file;
    this.file = null;
    await file?.close();
    const { keep } = this.options;
    if (keep === 0) {
      await unlink(this.path).catch(ignoreMissing);
    } else {
      for (let i = keep - 1; i >= 1; i--) {
        await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(ignoreMissing);
      }
      await rename(this.path, `${this.path}.1`).catch(ignoreMissing);
    }
    this.size = 0;
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== "ENOENT") throw err;
}

