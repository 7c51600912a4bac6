import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import pino from "pino";

export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * The supervisor's own voice: structured pino records in STATE_DIR/vigil.log, and a short readable line
 * on stderr for the person watching the terminal.
 */
export interface Logger {
  log(level: LogLevel, service: string | null, event: string, msg: string, fields?: Readonly<Record<string, unknown>>): void;
  flush(): Promise<void>;
}

export interface LoggerOptions {
  readonly file: string | null;
  readonly stderr: NodeJS.WritableStream | null;
  readonly color: boolean;
  /** lowest level shown on stderr */
  readonly stderrLevel?: LogLevel;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const TINT: Record<LogLevel, string> = { debug: "\x1b[2m", info: "", warn: "\x1b[33m", error: "\x1b[31;1m" };

export function createLogger(opts: LoggerOptions): Logger {
  let dest: ReturnType<typeof pino.destination> | null = null;
  let file: pino.Logger | null = null;
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true, mode: 0o700 });
    dest = pino.destination({ dest: opts.file, sync: false, mode: 0o600 });
    file = pino({ base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
  }
  const minRank = RANK[opts.stderrLevel ?? "info"];
  return {
    log(level, service, event, msg, fields) {
      file?.[level]({ service: service ?? undefined, event, ...fields }, msg);
      if (!opts.stderr || RANK[level] < minRank) return;
      const who = service ? `${service}: ` : "";
      const tag = level === "warn" || level === "error" ? `${level}: ` : "";
      const line = `vigil ${tag}${who}${msg}`;
      opts.stderr.write(opts.color && TINT[level] ? `${TINT[level]}${line}\x1b[0m\n` : `${line}\n`);
    },
    flush() {
      return new Promise((resolve) => {
        if (!dest) return resolve();
        dest.flush(() => resolve());
      });
    },
  };
}

export const silentLogger: Logger = { log() {}, flush: () => Promise.resolve() };
