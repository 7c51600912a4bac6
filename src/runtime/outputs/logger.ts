import pino from "pino";
import type { TextSink } from "./printer.js";
import { RotatingLog } from "./log-file.js";
import { unreported, type WriteReport } from "../state/problems.js";

export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * The supervisor's own voice: structured pino records in STATE_DIR/vigil.log, and a short readable line
 * on stderr for the person watching the terminal.
 */
export interface Logger {
  log(level: LogLevel, service: string | null, event: string, msg: string, fields?: Readonly<Record<string, unknown>>): void;
  flush(): Promise<void>;
  /** from now on, tell `report` how the writes of the log file go (a full disk, and its end) */
  reportFileTo?(report: WriteReport): void;
  /** flushes and lets go of the log file: for a logger that ends before the process does */
  close?(): Promise<void>;
}

export interface LoggerOptions {
  readonly file: string | null;
  readonly stderr: TextSink | null;
  readonly color: boolean;
  /** lowest level shown on stderr */
  readonly stderrLevel?: LogLevel;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const TINT: Record<LogLevel, string> = { debug: "\x1b[2m", info: "", warn: "\x1b[33m", error: "\x1b[31;1m" };

export function createLogger(opts: LoggerOptions): Logger {
  let dest: RotatingLog | null = null;
  let file: pino.Logger | null = null;
  let report: WriteReport = unreported;
  if (opts.file) {
    // written as a state directory's file is (never through a symbolic link, only a file of our own),
    // a line per record, batched per turn and at most every 10 ms (log-file.ts), and a failed write reported rather than thrown
    const log = new RotatingLog(opts.file, {
      maxBytes: Infinity,
      keep: 0,
      report: { failed: (err, path) => report.failed(err, path), succeeded: () => report.succeeded() },
    });
    dest = log;
    // pino ends every record with a newline, which RotatingLog adds itself
    file = pino({ base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, { write: (record: string) => log.write(record.slice(0, -1)) });
  }
  const minRank = RANK[opts.stderrLevel ?? "info"];
  const stderr = opts.stderr;
  // lines for the terminal, written once per turn of the event loop (a start of 1,000 services logs
  // 2,000 lines, and a write to a pipe or terminal is a system call each); whatever is still waiting
  // when the process exits (process.exit after a crash) is written by the exit hook
  let pending = "";
  let scheduled = false;
  const flushStderr = (): void => {
    scheduled = false;
    if (pending === "" || !stderr) return;
    const text = pending;
    pending = "";
    stderr.write(text);
  };
  if (stderr) process.on("exit", flushStderr);
  return {
    log(level, service, event, msg, fields) {
      file?.[level]({ service: service ?? undefined, event, ...fields }, msg);
      if (!stderr || RANK[level] < minRank) return;
      const who = service ? `${service}: ` : "";
      const tag = level === "warn" || level === "error" ? `${level}: ` : "";
      const line = `vigil ${tag}${who}${msg}`;
      pending += opts.color && TINT[level] ? `${TINT[level]}${line}\x1b[0m\n` : `${line}\n`;
      if (pending.length >= STDERR_BATCH_CHARS) flushStderr();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flushStderr);
      }
    },
    flush() {
      flushStderr();
      return dest ? dest.flush().catch(() => undefined) : Promise.resolve();
    },
    reportFileTo(next) {
      report = next;
    },
    async close() {
      flushStderr();
      await dest?.close().catch(() => undefined);
    },
  };
}

const STDERR_BATCH_CHARS = 64 * 1024;

export const silentLogger: Logger = { log() {}, flush: () => Promise.resolve() };
