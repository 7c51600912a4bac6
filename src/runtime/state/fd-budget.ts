// The stack's file descriptors: what the open-file limit allows against what the services need
// (core/fd-plan.ts). While they are scarce, logs and /proc handles are not kept open, and a spawn that
// would eat into the reserve kept for `vigil status`, `vigil down` and the state files fails the way a
// spawn that hits EMFILE does, so that the service goes through its backoff like any failed start.
import type { Clock, TimerHandle } from "../../core/clock.js";
import { planFds, RESERVE_FDS, serviceFds, suggestedLimit, type FdPlan, type ServiceFdShape } from "../../core/fd-plan.js";
import type { ServiceConfig } from "../../manifest/types.js";
import { countOpenFds, readFdLimit } from "./fd-limit.js";
import { Gate } from "./gate.js";
import type { LogFdPolicy } from "../outputs/log-file.js";

/** logs opened at once while descriptors are scarce */
const LOG_OPENS_AT_ONCE = 4;
/** while descriptors are scarce, how often those in use are counted */
const USAGE_CHECK_MS = 5_000;
/** fewer left than this: exhausted (connections are being dropped unseen); more than the reserve: over */
const EXHAUSTED_LEFT_FDS = RESERVE_FDS / 2;

/** Where the watch of descriptors in use says what it sees (Problems). */
export interface FdUsageReport {
  exhausted(message: string): void;
  relieved(): void;
}

function shapeOf(config: ServiceConfig): ServiceFdShape {
  const via = config.heartbeat?.via;
  // a notify instance holds its own datagram socket, one descriptor as a socket connection does
  return { ipc: via === "ipc", socketBeats: via === "socket" || via === "notify" };
}

export class FdBudget implements LogFdPolicy {
  readonly gate = new Gate(LOG_OPENS_AT_ONCE);
  #plan: FdPlan | null = null;
  #ownFds = 0;
  /** descriptors open, counted once per turn, plus what the spawns admitted since then will take */
  #inUseThisTurn: number | null = null;
  #exhausted = false;
  #usage: { readonly clock: Clock; readonly report: FdUsageReport; readonly intervalMs: number; timer: TimerHandle | null } | null = null;

  constructor(
    /** null: unlimited (or unknown), and nothing to plan */
    readonly limitFds: number | null = readFdLimit(),
    private readonly countOpen: () => number | null = countOpenFds,
  ) {}

  /** Counts what vigil holds itself; once, after its sockets are open and before its first spawn. */
  measureOwn(): void {
    this.#ownFds = this.countOpen() ?? 0;
  }

  /** Plans for these services; returns the warning to log when the limit leaves little (once), else null. */
  plan(services: readonly ServiceConfig[]): string | null {
    if (this.limitFds === null) return null;
    const wasSmall = this.#plan?.small === true;
    const plan = planFds(this.limitFds, this.#ownFds, services.map(shapeOf));
    this.#plan = plan;
    this.#armUsage();
    if (!plan.small || wasSmall) return null;
    return (
      `the open-file limit is ${this.limitFds}, and ${services.length} services need about ${plan.needFds} descriptors ` +
      `(${this.#ownFds} for vigil itself, 3 to 7 a service, ${RESERVE_FDS} kept free): some may not start; ` +
      `raise it (ulimit -n ${suggestedLimit(plan.needFds)} before vigil up, or LimitNOFILE= in a systemd unit)`
    );
  }

  /**
   * While descriptors are scarce, counts those in use every few seconds and reports when next to none
   * are left. It has to: a listening socket out of descriptors drops each connection it is offered
   * (libuv accepts and closes it with a spare one) without telling the program. While they are plenty no
   * timer is armed: a new plan arms it. Returns a stop function.
   */
  watchUsage(clock: Clock, report: FdUsageReport, intervalMs = USAGE_CHECK_MS): () => void {
    const watch = { clock, report, intervalMs, timer: null as TimerHandle | null };
    this.#usage = watch;
    this.#armUsage();
    return () => {
      if (watch.timer !== null) clock.clearTimer(watch.timer);
      watch.timer = null;
      if (this.#usage === watch) this.#usage = null;
    };
  }

  #armUsage(): void {
    const watch = this.#usage;
    if (watch === null || watch.timer !== null || !this.#usageMatters()) return;
    watch.timer = watch.clock.setTimer(watch.intervalMs, () => {
      watch.timer = null;
      this.checkUsage(watch.report);
      this.#armUsage();
    });
  }

  #usageMatters(): boolean {
    return this.limitFds !== null && (!this.holdFiles() || this.#exhausted);
  }

  checkUsage(report: FdUsageReport): void {
    const limit = this.limitFds;
    if (limit === null || !this.#usageMatters()) return;
    const left = limit - (this.countOpen() ?? limit);
    if (!this.#exhausted && left < EXHAUSTED_LEFT_FDS) {
      this.#exhausted = true;
      report.exhausted(
        `only ${Math.max(0, left)} of the ${this.limitFds} file descriptors allowed (ulimit -n) are left: ` +
          `connections to vigil's sockets and writes of its files may fail`,
      );
    } else if (this.#exhausted && left > RESERVE_FDS) {
      this.#exhausted = false;
      report.relieved();
    }
  }

  holdFiles(): boolean {
    return this.#plan?.holdFiles ?? true;
  }

  /** Null when a child of `config` may be spawned now; else why not, as the spawn's error. */
  admitSpawn(config: ServiceConfig): string | null {
    if (this.limitFds === null || this.holdFiles()) return null;
    let inUse = this.#inUseThisTurn;
    if (inUse === null) {
      // /proc/self/fd cannot be listed without a descriptor to spare: none is left
      inUse = this.countOpen() ?? this.limitFds;
      // a start of many services spawns them in one turn: one count serves them all
      queueMicrotask(() => (this.#inUseThisTurn = null));
    }
    const cost = serviceFds(shapeOf(config), false);
    if (inUse + cost + RESERVE_FDS > this.limitFds) {
      this.#inUseThisTurn = inUse;
      return `too few file descriptors (EMFILE): ${inUse} of the ${this.limitFds} allowed (ulimit -n) are open, and vigil keeps ${RESERVE_FDS} free for itself`;
    }
    this.#inUseThisTurn = inUse + cost;
    return null;
  }
}
