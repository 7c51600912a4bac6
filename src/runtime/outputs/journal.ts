// STATE_DIR/events.jsonl: every event as one JSON line, appended in order (at most every 10 ms, log-file.ts) and rotated by size
// (events.jsonl.1 … .3). The reader serves `vigil events` with or without a running supervisor; a line
// torn by a crash, or anything else that is not an event, is skipped.
import { closeSync, readSync, fstatSync } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { RotatingLog } from "./log-file.js";
import type { Logger } from "./logger.js";
import type { WriteReport } from "../state/problems.js";
import { openStateFileSync } from "../state/state-dir.js";
import type { EventSink, VigilEvent } from "./event.js";

export const JOURNAL_FILE = "events.jsonl";
export const JOURNAL_MAX_BYTES = 10 * 1024 * 1024;
export const JOURNAL_KEEP = 3;
const ERROR_LOG_MS = 60_000;

export const journalPath = (stateDir: string): string => join(stateDir, JOURNAL_FILE);

export interface JournalOptions {
  readonly maxBytes?: number;
  readonly keep?: number;
  /** told of every write's outcome; without it, failures are logged here (at most one a minute) */
  readonly report?: WriteReport;
}

export class Journal implements EventSink {
  private readonly log: RotatingLog;
  private readonly report: WriteReport | undefined;
  private lastErrorLogMs = -Infinity;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
    opts: JournalOptions = {},
  ) {
    this.report = opts.report;
    this.log = new RotatingLog(path, {
      maxBytes: opts.maxBytes ?? JOURNAL_MAX_BYTES,
      keep: opts.keep ?? JOURNAL_KEEP,
      maxQueuedBytes: 4 * 1024 * 1024,
      ...(opts.report ? { report: opts.report } : { onError: (err: unknown) => this.reportError(err) }),
    });
    // a line torn by a crash is ended, so that it does not swallow the first event of this run
    if (!endsWithNewline(path)) this.log.write("");
  }

  publish(event: VigilEvent): void {
    this.log.write(serialise(event));
  }

  /** Resolves once every event published so far is in the file. */
  flush(): Promise<void> {
    return this.log.flush();
  }

  async close(): Promise<void> {
    // a failure is told to the report by the log itself, when there is one
    await this.log.close().catch((err: unknown) => this.report === undefined && this.reportError(err));
  }

  private reportError(err: unknown): void {
    // a full disk must not stop supervision, nor fill vigil.log with one line per event
    const now = performance.now();
    if (now - this.lastErrorLogMs < ERROR_LOG_MS) return;
    this.lastErrorLogMs = now;
    this.logger.log("error", null, "journal-error", `cannot write the event journal ${this.path}: ${(err as Error)?.message ?? String(err)}`);
  }
}

function endsWithNewline(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openStateFileSync(path, "read");
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } catch {
    return true; // no journal yet (or one vigil refuses to open: its writes will say so)
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function serialise(event: VigilEvent): string {
  try {
    return JSON.stringify(event);
  } catch {
    // figures that JSON cannot hold (a cycle, a bigint) lose the figures, not the event
    return JSON.stringify({ ...event, fields: {} });
  }
}

/** One journal line as an event, or null for anything else (a torn last line, garbage). */
export function parseJournalLine(line: string): VigilEvent | null {
  if (line.trim() === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const e = value as Record<string, unknown>;
  if (typeof e["at"] !== "string" || typeof e["kind"] !== "string" || Number.isNaN(Date.parse(e["at"]))) return null;
  const service = typeof e["service"] === "string" ? e["service"] : null;
  const level = e["level"] === "debug" || e["level"] === "warn" || e["level"] === "error" ? e["level"] : "info";
  const fields = typeof e["fields"] === "object" && e["fields"] !== null && !Array.isArray(e["fields"]) ? (e["fields"] as Record<string, unknown>) : {};
  return { at: e["at"], service, kind: e["kind"], level, message: typeof e["message"] === "string" ? e["message"] : "", fields };
}

export interface JournalQuery {
  /** wall-clock ms: only events at or after it (and rotated files are read back to it) */
  readonly sinceMs?: number;
  /** wall-clock ms: only events at or before it (rotated files are read too) */
  readonly untilMs?: number;
  readonly service?: string;
  /** only the last this many (rotated files are read back until there are enough) */
  readonly last?: number;
}

export interface JournalRead {
  /** oldest first */
  readonly events: VigilEvent[];
  /** where the complete lines of the current file end: following resumes here */
  readonly end: number;
}

/**
 * Events of the journal in `stateDir`, oldest first. Without sinceMs or last, only the current file;
 * with them, rotated files too, as far back as needed.
 */
export async function readJournal(stateDir: string, query: JournalQuery = {}): Promise<JournalRead> {
  const path = journalPath(stateDir);
  const keep = (e: VigilEvent): boolean =>
    (query.service === undefined || e.service === query.service) && (query.sinceMs === undefined || Date.parse(e.at) >= query.sinceMs) &&
    (query.untilMs === undefined || Date.parse(e.at) <= query.untilMs);
  const current = await readLines(path);
  let events = current.lines.flatMap((line) => parseJournalLine(line) ?? []).filter(keep);
  const enough = (): boolean =>
    (query.sinceMs === undefined && query.untilMs === undefined && query.last === undefined) || (query.last !== undefined && events.length >= query.last);
  for (let i = 1; !enough(); i++) {
    const rotated = `${path}.${i}`;
    const info = await stat(rotated).catch(() => null);
    if (!info) break;
    // a rotated file last written before `since` holds nothing newer
    if (query.sinceMs !== undefined && info.mtimeMs < query.sinceMs) break;
    const older = await readLines(rotated);
    events = [...older.lines.flatMap((line) => parseJournalLine(line) ?? []).filter(keep), ...events];
  }
  if (query.last !== undefined) events = events.slice(Math.max(0, events.length - query.last));
  return { events, end: current.end };
}

async function readLines(path: string): Promise<{ lines: string[]; end: number }> {
  const file = await open(path, "r").catch(() => null);
  if (!file) return { lines: [], end: 0 };
  try {
    const data = await file.readFile();
    // what follows the last newline is still being written (or was torn by a crash)
    const end = data.lastIndexOf(0x0a) + 1;
    return { lines: end === 0 ? [] : data.toString("utf8", 0, end - 1).split("\n"), end };
  } finally {
    await file.close();
  }
}

/** Reads what is appended to the journal, across rotations (as tail -F). */
export class JournalFollower {
  private file: FileHandle | null = null;
  private ino: number | null = null;
  private partial = Buffer.alloc(0);

  constructor(
    readonly path: string,
    private offset: number,
  ) {}

  /** Complete events appended since the last call; on rotation, the rest of the old file, then the new one. */
  async read(): Promise<VigilEvent[]> {
    const lines: string[] = [];
    if (this.file === null) await this.reopen(this.offset);
    else {
      lines.push(...(await this.readFrom()));
      const ino = await stat(this.path).then((s) => s.ino, () => null);
      if (ino !== null && ino !== this.ino) {
        lines.push(...(await this.readFrom()));
        await this.file.close();
        this.file = null;
        await this.reopen(0);
      }
    }
    if (this.file) lines.push(...(await this.readFrom()));
    return lines.flatMap((line) => parseJournalLine(line) ?? []);
  }

  async close(): Promise<void> {
    await this.file?.close();
    this.file = null;
  }

  private async reopen(offset: number): Promise<void> {
    const file = await open(this.path, "r").catch(() => null);
    if (!file) return;
    const info = await file.stat();
    // a file smaller than where we were is a new one
    Object.assign(this, { file, ino: info.ino, offset: offset <= info.size ? offset : 0, partial: Buffer.alloc(0) });
  }

  private async readFrom(): Promise<string[]> {
    const file = this.file;
    if (!file) return [];
    const size = (await file.stat()).size;
    if (size < this.offset) Object.assign(this, { offset: 0, partial: Buffer.alloc(0) });
    const lines: string[] = [];
    while (this.offset < size) {
      const buf = Buffer.allocUnsafe(Math.min(64 * 1024, size - this.offset));
      const { bytesRead } = await file.read(buf, 0, buf.length, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      const data = Buffer.concat([this.partial, buf.subarray(0, bytesRead)]);
      let start = 0;
      for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
        lines.push(data.toString("utf8", start, nl));
        start = nl + 1;
      }
      this.partial = Buffer.from(data.subarray(start));
    }
    return lines;
  }
}
