// Watches supervisor.yaml and the env files it names, and calls onChange once a burst of edits settles.
// Each file's parent DIRECTORY is watched, filtered to the files of interest: editors replace a file
// (atomic save: write a temp file, rename it over; vim: rename to `file~`, write anew, delete the backup),
// and a watch on the file's inode would stay on the old one. Every event on a file of interest counts
// alike (add, change, unlink); the loader then reads whatever is there, and a deleted manifest is
// reported too, so that the reload can say "cannot read" and keep the running config.
// A directory that cannot be watched (out of file descriptors: chokidar then reports an error and never
// becomes ready) is tried again every few seconds, and the caller hears when watching stopped and
// when it resumed; on resuming, onChange is called once for the edits that may have gone unseen.
import { watch, type FSWatcher } from "chokidar";
import { dirname, resolve } from "node:path";
import type { Clock, TimerHandle } from "../core/clock.js";
import { realClock } from "./real-clock.js";

export const DEFAULT_DEBOUNCE_MS = 100;
/**
 * chokidar drops a change that follows another on the same path within 50 ms, without a trailing event;
 * a longer quiet time still fires after the last write of a burst.
 */
const CHOKIDAR_CHANGE_THROTTLE_MS = 50;
/** a directory that could not be watched is tried again after this long */
export const REWATCH_MS = 5_000;

export interface ManifestWatcherOptions {
  /** path of supervisor.yaml */
  readonly manifest: string;
  /** the env files of the current generation; read again by refresh() */
  readonly extraFiles: () => readonly string[];
  /** quiet time after the last event before onChange; default 100 */
  readonly debounceMs?: number;
  /** how long after a directory could not be watched it is tried again; default REWATCH_MS */
  readonly rewatchMs?: number;
  readonly clock?: Clock;
  readonly onChange: () => void;
  readonly onError?: (error: Error) => void;
  /** a directory could not be watched: edits are not seen until watching resumes */
  readonly onStopped?: (error: Error) => void;
  /** every directory is watched again after onStopped */
  readonly onResumed?: () => void;
}

export class ManifestWatcher {
  readonly #opts: ManifestWatcherOptions;
  readonly #clock: Clock;
  readonly #debounceMs: number;
  /** absolute paths of the files of interest; the directory filters read it on every event */
  #files = new Set<string>();
  readonly #dirs = new Map<string, FSWatcher>();
  #timer: TimerHandle | null = null;
  #syncing: Promise<void> = Promise.resolve();
  #closed = false;
  /** some directory could not be watched; #rewatch tries again */
  #stopped = false;
  #rewatch: TimerHandle | null = null;

  constructor(opts: ManifestWatcherOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    if (!(this.#debounceMs > CHOKIDAR_CHANGE_THROTTLE_MS)) {
      throw new RangeError(`debounceMs must be more than ${CHOKIDAR_CHANGE_THROTTLE_MS} (chokidar's change throttle), got ${this.#debounceMs}`);
    }
  }

  /** Resolves once every directory is watched: an edit made after that is seen. */
  start(): Promise<void> {
    return this.refresh();
  }

  /** Re-reads extraFiles() (after a reload) and watches exactly the directories now needed. */
  refresh(): Promise<void> {
    // one sync at a time, and a failed one does not block the next
    const run = this.#syncing.then(() => this.#sync());
    this.#syncing = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelTimer();
    if (this.#rewatch !== null) this.#clock.clearTimer(this.#rewatch);
    this.#rewatch = null;
    await this.#syncing;
    const watchers = [...this.#dirs.values()];
    this.#dirs.clear();
    await Promise.all(watchers.map((watcher) => watcher.close()));
  }

  async #sync(): Promise<void> {
    if (this.#closed) return;
    const files = new Set([this.#opts.manifest, ...this.#opts.extraFiles()].map((path) => resolve(path)));
    this.#files = files;
    const dirs = new Set([...files].map((path) => dirname(path)));
    const gone = [...this.#dirs].filter(([dir]) => !dirs.has(dir));
    for (const [dir] of gone) this.#dirs.delete(dir);
    const fresh = [...dirs].filter((dir) => !this.#dirs.has(dir));
    const [failure] = (
      await Promise.all([
        ...gone.map(([, watcher]) => watcher.close().then(() => null)),
        ...fresh.map((dir) => this.#watchDir(dir).then(() => null, (error: unknown) => toError(error))),
      ])
    ).filter((e) => e !== null);
    if (failure) this.#stop(failure);
    else if (this.#stopped) this.#resume();
  }

  #stop(error: Error): void {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#opts.onStopped?.(error);
    }
    this.#rewatch ??= this.#clock.setTimer(this.#opts.rewatchMs ?? REWATCH_MS, () => {
      this.#rewatch = null;
      if (!this.#closed) void this.refresh();
    });
  }

  #resume(): void {
    this.#stopped = false;
    this.#opts.onResumed?.();
    // an edit made while the directory was not watched
    this.#touched();
  }

  /** Watches dir; rejects, leaving nothing open, when chokidar reports an error before it is ready. */
  async #watchDir(dir: string): Promise<void> {
    const watcher = watch(dir, {
      depth: 0,
      ignoreInitial: true,
      // an unlink followed by an add within 100 ms is reported as one change; either way it is one event here.
      // No awaitWriteFinish: the debounce already waits for quiet, and it would poll.
      atomic: true,
      ignored: (path) => path !== dir && !this.#files.has(path),
    });
    watcher.on("all", (_event, path) => {
      if (this.#files.has(resolve(path))) this.#touched();
    });
    const failed = await new Promise<Error | null>((done) => {
      const ready = (): void => {
        watcher.off("error", error);
        done(null);
      };
      const error = (e: unknown): void => {
        watcher.off("ready", ready);
        done(toError(e));
      };
      watcher.once("ready", ready);
      watcher.once("error", error);
    });
    if (failed) {
      await watcher.close().catch(() => undefined);
      throw failed;
    }
    // a refresh while this was set up may have dropped the directory, or the watcher closed
    if (this.#closed) {
      await watcher.close();
      return;
    }
    this.#dirs.set(dir, watcher);
    // once ready, an error (a scandir out of descriptors) is passing: the watch itself goes on
    watcher.on("error", (error) => this.#report(error));
  }

  #touched(): void {
    if (this.#closed) return;
    this.#cancelTimer();
    this.#timer = this.#clock.setTimer(this.#debounceMs, () => {
      this.#timer = null;
      if (this.#closed) return;
      try {
        this.#opts.onChange();
      } catch (error) {
        this.#report(error);
      }
    });
  }

  #cancelTimer(): void {
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
  }

  #report(error: unknown): void {
    this.#opts.onError?.(toError(error));
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
