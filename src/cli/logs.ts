// vigil logs: the output the supervisor captured in STATE_DIR/logs/NAME.log (and NAME.log.1 … once
// rotated): the last lines, then, with --follow, every line appended, across rotations, as tail -F does.
import { watch, type FSWatcher } from "node:fs";
import { open, readdir, stat, type FileHandle } from "node:fs/promises";
import { join, resolve } from "node:path";
import { manifestNames } from "./manifest-names.js";
import { stateDirOf } from "../manifest/state-dir.js";
import { createPrinter, wantsColor } from "../runtime/outputs/printer.js";
import { jsonLine, type Output } from "./log-output.js";
import { noStack } from "./target.js";
import { UserError } from "./user-error.js";

export interface LogsOptions {
  readonly lines: number;
  readonly follow: boolean;
  /** an ISO time before each line, the time the supervisor stored with it */
  readonly timestamps?: boolean;
  /** one JSON object per line (jsonLine) instead of prefixed text */
  readonly json?: boolean;
  /** names the name column is as wide as, besides those shown (`vigil attach`: the running stack's, as `vigil up`) */
  readonly columns?: readonly string[];
  /** while following: stop once this says no (the supervisor `vigil attach` follows has gone) */
  readonly alive?: () => boolean;
}

export interface LogEntry {
  readonly service: string;
  readonly atMs: number;
  readonly stream: "out" | "err";
  readonly text: string;
}

const CHUNK_BYTES = 64 * 1024;
const POLL_MS = 500;
const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);
const LINE = /^(\S+) (out|err) ?(.*)$/s;
const LOG_FILE = /^(.+)\.log(?:\.\d+)?$/;

/** `2026-11-22T10:00:00.123Z out text` as its parts; other lines (the writer's own notes) as output at `fallbackMs`. */
export function parseLogLine(service: string, raw: string, fallbackMs: number): LogEntry {
  const m = LINE.exec(raw);
  const atMs = m ? Date.parse(m[1] ?? "") : Number.NaN;
  if (!m || Number.isNaN(atMs)) return { service, atMs: fallbackMs, stream: "out", text: raw };
  return { service, atMs, stream: m[2] === "err" ? "err" : "out", text: m[3] ?? "" };
}

export interface Tail {
  /** oldest first */
  readonly lines: string[];
  /** where the complete lines of the current file end: following resumes here */
  readonly end: number;
}

/**
 * The last `count` lines of `path`, reaching back into `path.1`, `path.2` … while it holds fewer. Files are
 * read backwards in chunks, so ten lines of a 10 MiB file cost one chunk. A line still being written
 * (no newline yet) is left out. `current` is `path` opened already, so that a follower reads the same file.
 */
export async function readTail(path: string, count: number, current: FileHandle | null = null, chunkBytes = CHUNK_BYTES): Promise<Tail> {
  const own = current === null ? await open(path, "r").catch(ifMissing(null)) : null;
  const file = current ?? own;
  let end = 0;
  let lines: string[] = [];
  try {
    if (file) ({ lines, end } = await linesBefore(file, (await file.stat()).size, count, chunkBytes));
  } finally {
    await own?.close();
  }
  for (let i = 1; lines.length < count; i++) {
    const older = await open(`${path}.${i}`, "r").catch(ifMissing(null));
    if (!older) break;
    try {
      const more = await linesBefore(older, (await older.stat()).size, count - lines.length, chunkBytes);
      lines = [...more.lines, ...lines];
    } finally {
      await older.close();
    }
  }
  return { lines, end };
}

async function linesBefore(file: FileHandle, size: number, count: number, chunkBytes: number): Promise<Tail> {
  const lines: string[] = [];
  let end = -1;
  let carry = Buffer.alloc(0);
  let pos = size;
  while ((end < 0 || lines.length < count) && pos > 0) {
    const want = Math.min(chunkBytes, pos);
    pos -= want;
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await file.read(buf, 0, want, pos);
    const data = Buffer.concat([buf.subarray(0, bytesRead), carry]);
    let stop = data.length;
    while (stop > 0 && (end < 0 || lines.length < count)) {
      const nl = data.lastIndexOf(NEWLINE, stop - 1);
      if (nl < 0) break;
      if (end < 0) end = pos + nl + 1; // what follows the last newline is still being written
      else lines.push(data.toString("utf8", nl + 1, stop));
      stop = nl;
    }
    carry = data.subarray(0, stop);
  }
  if (pos === 0 && end >= 0 && lines.length < count) lines.push(carry.toString("utf8"));
  return { lines: lines.reverse(), end: Math.max(0, end) };
}


async function loggedNames(logsDir: string): Promise<string[]> {
  const files = await readdir(logsDir).catch(ifMissing([] as string[]));
  return [...new Set(files.flatMap((f) => LOG_FILE.exec(f)?.[1] ?? []))].sort();
}

export async function logsCommand(names: readonly string[], file: string, opts: LogsOptions): Promise<void> {
  const stateDir = stateDirOf(resolve(file));
  const missing = noStack(file, stateDir);
  if (missing) throw missing;
  const logsDir = join(stateDir, "logs");
  try {
    await showLogs(names, file, logsDir, opts);
  } catch (err) {
    throw unreadable(err, logsDir) ?? err;
  }
}

/** The state directory is mode 0700: another user (or one without root's rights) gets one line, not a stack trace. */
function unreadable(err: unknown, logsDir: string): UserError | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code !== "EACCES" && code !== "EPERM") return undefined;
  return new UserError(`vigil: cannot read the logs in ${logsDir}: permission denied (${code})`, 1, { cause: err });
}

async function showLogs(names: readonly string[], file: string, logsDir: string, opts: LogsOptions): Promise<void> {
  const logged = await loggedNames(logsDir);
  const known = [...new Set([...manifestNames(resolve(file)), ...logged])];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    const list = known.length > 0 ? known.join(", ") : "none";
    throw new UserError(`vigil: unknown service${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (known: ${list})`, 1);
  }
  const shown = names.length > 0 ? instanceLogs(names, logged) : logged;
  if (shown.length === 0 && !opts.follow) {
    process.stderr.write(`vigil: no logs yet in ${logsDir}\n`);
    return;
  }
  const printer = opts.json === true ? jsonOutput(manifestNames(resolve(file))) : createPrinter(process.stdout, { color: wantsColor(process.stdout), timestamps: opts.timestamps === true });
  const columns = (names: readonly string[]): string[] => [...(opts.columns ?? []), ...names];
  printer.setNames(columns(shown));
  const followers = new Map<string, Follower>();
  const tails: LogEntry[][] = [];
  for (const name of shown) {
    const path = join(logsDir, `${name}.log`);
    const current = opts.follow ? await open(path, "r").catch(ifMissing(null)) : null;
    const tail = await readTail(path, opts.lines, current);
    tails.push(toEntries(name, tail.lines));
    if (opts.follow) followers.set(name, { name, path, file: current, ino: current ? (await current.stat()).ino : null, offset: tail.end, partial: EMPTY, lastAtMs: 0 });
  }
  const merged = tails.flat().sort((a, b) => a.atMs - b.atMs);
  for (const e of merged.slice(Math.max(0, merged.length - opts.lines))) printer.line(e.service, e.stream, e.text, e.atMs);
  printer.flush();
  // while following, logs that appear are followed too: any (no names given), or a named service's new instances
  const wanted = (name: string): boolean => names.length === 0 || instanceLogs(names, [name]).includes(name);
  if (opts.follow) await follow(logsDir, followers, wanted, { setNames: (n) => printer.setNames(columns(n)), line: printer.line, flush: printer.flush }, opts.alive ?? (() => true));
}

/** Prints each entry as one JSON object a line. */
function jsonOutput(services: readonly string[]): Output {
  let pending: string[] = [];
  return {
    setNames() {},
    line(service, stream, text, atMs) {
      pending.push(`${JSON.stringify(jsonLine({ service, stream, text, atMs: atMs ?? Date.now() }, services))}\n`);
    },
    flush() {
      if (pending.length === 0) return;
      process.stdout.write(pending.join(""));
      pending = [];
    },
  };
}

/**
 * The logs a list of names means: a service's own (`web.log`) and its instances' (`web.0.log`, `web.1.log`
 * of a service with replicas), or one instance's.
 */
export function instanceLogs(names: readonly string[], logged: readonly string[]): string[] {
  const shown = new Set<string>();
  for (const name of names) {
    shown.add(name);
    for (const other of logged) if (other.startsWith(`${name}.`) && /^\d+$/.test(other.slice(name.length + 1))) shown.add(other);
  }
  return [...shown];
}

function toEntries(service: string, lines: readonly string[]): LogEntry[] {
  let atMs = 0;
  return lines.map((raw) => {
    const e = parseLogLine(service, raw, atMs);
    atMs = e.atMs;
    return e;
  });
}

interface Follower {
  readonly name: string;
  readonly path: string;
  file: FileHandle | null;
  ino: number | null;
  offset: number;
  /** bytes after the last newline read */
  partial: Buffer;
  lastAtMs: number;
}

/** Prints what is appended until SIGINT or SIGTERM; a change in the logs directory, or the poll, triggers a round. */
async function follow(logsDir: string, followers: Map<string, Follower>, wanted: (name: string) => boolean, printer: Output, alive: () => boolean): Promise<void> {
  // set from callbacks, hence an object: the compiler does not narrow its fields away
  const live: { watcher: FSWatcher | null; running: Promise<void> | null } = { watcher: null, running: null };
  let again = false;
  let stopped = false;
  let end!: (err?: unknown) => void;
  const ended = new Promise<void>((done, failed) => (end = (err) => (err === undefined ? done() : failed(err))));
  const stop = (): void => end();
  const fail = (err: unknown): void => end(err);
  const round = async (): Promise<void> => {
    {
      const added = (await loggedNames(logsDir)).filter((n) => !followers.has(n) && wanted(n));
      // a file that appears while following is new: it is read from its start
      for (const name of added) followers.set(name, { name, path: join(logsDir, `${name}.log`), file: null, ino: null, offset: 0, partial: EMPTY, lastAtMs: 0 });
      if (added.length > 0) printer.setNames([...followers.keys()]);
    }
    const batches = await Promise.all([...followers.values()].map((f) => readAppended(f)));
    for (const e of batches.flat().sort((a, b) => a.atMs - b.atMs)) printer.line(e.service, e.stream, e.text, e.atMs);
    printer.flush();
  };
  const trigger = (): void => {
    if (stopped) return;
    if (live.running) {
      again = true;
      return;
    }
    live.running = (async () => {
      do {
        again = false;
        await round();
      } while (again && !stopped);
    })()
      .catch(fail)
      .finally(() => (live.running = null));
  };
  const startWatching = (): void => {
    try {
      live.watcher ??= watch(logsDir, trigger).on("error", () => {
        live.watcher?.close();
        live.watcher = null;
      });
    } catch {
      // no logs directory yet: the poll goes on and tries again
    }
  };
  startWatching();
  const poll = setInterval(() => {
    if (!alive()) {
      // what the supervisor wrote before it went is read once more, then the follow ends
      clearInterval(poll);
      trigger();
      void (async () => {
        while (live.running) await live.running;
        stop();
      })();
      return;
    }
    startWatching();
    trigger();
  }, POLL_MS);
  trigger();
  process.on("SIGINT", stop).on("SIGTERM", stop);
  process.stdout.on("error", stop); // EPIPE: the reader went away
  try {
    await ended;
  } finally {
    stopped = true;
    process.off("SIGINT", stop).off("SIGTERM", stop);
    process.stdout.off("error", stop);
    clearInterval(poll);
    live.watcher?.close();
    await live.running;
    await Promise.all([...followers.values()].map((f) => f.file?.close()));
  }
}

/** The complete lines appended since the last call; on rotation, the rest of the old file, then the new one. */
async function readAppended(f: Follower): Promise<LogEntry[]> {
  const raw: string[] = [];
  if (f.file) raw.push(...(await readFrom(f)));
  const ino = await stat(f.path).then((s) => s.ino, ifMissing(null));
  if (ino !== null && ino !== f.ino) {
    const next = await open(f.path, "r").catch(ifMissing(null));
    if (next) {
      if (f.file) {
        raw.push(...(await readFrom(f)));
        if (f.partial.length > 0) raw.push(f.partial.toString("utf8"));
        await f.file.close();
      }
      Object.assign(f, { file: next, ino: (await next.stat()).ino, offset: 0, partial: EMPTY });
      raw.push(...(await readFrom(f)));
    }
  }
  return raw.map((line) => {
    const e = parseLogLine(f.name, line, f.lastAtMs);
    f.lastAtMs = e.atMs;
    return e;
  });
}

async function readFrom(f: Follower): Promise<string[]> {
  const file = f.file;
  if (!file) return [];
  const size = (await file.stat()).size;
  if (size < f.offset) Object.assign(f, { offset: 0, partial: EMPTY }); // truncated in place
  const lines: string[] = [];
  while (f.offset < size) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size - f.offset));
    const { bytesRead } = await file.read(buf, 0, buf.length, f.offset);
    if (bytesRead === 0) break;
    f.offset += bytesRead;
    // split as bytes, so that a character cut by the chunk's end stays whole
    const data = f.partial.length > 0 ? Buffer.concat([f.partial, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
    let start = 0;
    for (let nl = data.indexOf(NEWLINE); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
      lines.push(data.toString("utf8", start, nl));
      start = nl + 1;
    }
    f.partial = Buffer.from(data.subarray(start));
  }
  return lines;
}

function ifMissing<T>(fallback: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === "ENOENT") return fallback;
    throw err;
  };
}
