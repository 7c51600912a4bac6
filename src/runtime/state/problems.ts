// What is wrong with the supervisor's own plumbing right now (a full disk under the state directory,
// too few file descriptors), for the status document's supervisor.problems. A problem is logged once
// when it begins and once when it ends, however many writes fail in between: a full disk with a chatty
// stack is thousands of failed writes a minute, and one line says all there is to say.
import { relative } from "node:path";
import type { Clock } from "../../core/clock.js";
import { formatMs } from "../../core/format.js";
import { LogThrottle } from "../../core/log-throttle.js";
import type { ProblemDoc, ProblemKind } from "../../control/status-document.js";
import { WallIso } from "../iso-time.js";
import type { Logger } from "../outputs/logger.js";
import { StateDirError } from "./state-dir.js";

/** a problem that ends and begins again within this time is not logged again (a disk at the brink) */
const RELOG_QUIET_MS = 60_000;

/** What a writer of a file tells after each attempt. */
export interface WriteReport {
  failed(err: unknown, path: string): void;
  succeeded(): void;
}

export const unreported: WriteReport = { failed() {}, succeeded() {} };

export function problemKind(err: unknown): ProblemKind {
  if (err instanceof StateDirError) return "state-dir";
  switch ((err as NodeJS.ErrnoException | null)?.code) {
    case "ENOSPC":
    case "EDQUOT":
    case "EIO":
    case "EROFS":
      return "disk";
    case "EMFILE":
    case "ENFILE":
      return "fds";
    default:
      return "write";
  }
}

/** "no space left on device (ENOSPC)" for Node's "ENOSPC: no space left on device, write" */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined || !err.message.startsWith(`${code}: `)) return err.message;
  const text = err.message.slice(code.length + 2);
  const comma = text.indexOf(", ");
  return `${comma >= 0 ? text.slice(0, comma) : text} (${code})`;
}

interface OpenProblem {
  readonly kind: ProblemKind;
  readonly message: string;
  /** the line that says it is over */
  readonly endText: string;
  readonly sinceMs: number;
  readonly sinceWallMs: number;
  /** its beginning was logged, so its end is too */
  readonly logged: boolean;
}

export interface ProblemsOptions {
  /** paths are named relative to it */
  readonly stateDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** the list changed: worth a status rewrite */
  readonly changed?: () => void;
}

export class Problems {
  readonly #open = new Map<string, OpenProblem>();
  readonly #relog = new LogThrottle<string>(RELOG_QUIET_MS);
  readonly #iso = new WallIso();

  constructor(private readonly opts: ProblemsOptions) {}

  /** The report of one file, or one family of files (every service's log): one problem for all of them. */
  writes(key: string): WriteReport {
    return {
      failed: (err, path) => {
        const what = relative(this.opts.stateDir, path) || path;
        this.raise(key, problemKind(err), `cannot write ${what}: ${describeError(err)}`, `${what} is written again`);
      },
      succeeded: () => {
        if (this.#open.size > 0) this.clear(key);
      },
    };
  }

  /**
   * Begins a problem (logged), or keeps one that goes on (not logged again unless its kind changed).
   * endText is what its end will log.
   */
  raise(key: string, kind: ProblemKind, message: string, endText: string): void {
    const current = this.#open.get(key);
    if (current?.kind === kind) return;
    const { clock, logger } = this.opts;
    const held = this.#relog.admit(`${key}/${kind}`, clock.now());
    if (held !== null) {
      const again = held > 0 ? ` (and ${held} more times in the last ${formatMs(RELOG_QUIET_MS)})` : "";
      logger.log("error", null, "problem", `${message}${again}`, { kind, key });
    }
    this.#open.set(key, { kind, message, endText, sinceMs: clock.now(), sinceWallMs: clock.wallNow(), logged: held !== null });
    this.opts.changed?.();
  }

  /** Ends a problem; its end is logged when its beginning was. */
  clear(key: string): void {
    const problem = this.#open.get(key);
    if (!problem) return;
    this.#open.delete(key);
    if (problem.logged) {
      const lasted = formatMs(Math.max(0, this.opts.clock.now() - problem.sinceMs));
      this.opts.logger.log("info", null, "problem-over", `${problem.endText} (after ${lasted})`, { kind: problem.kind, key });
    }
    this.opts.changed?.();
  }

  list(): ProblemDoc[] {
    return [...this.#open.values()].map((p) => ({ kind: p.kind, message: p.message, since: this.#iso.of(p.sinceWallMs) }));
  }
}
