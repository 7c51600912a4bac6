// vigil under systemd (SPEC §6.3): started with NOTIFY_SOCKET, `vigil up` tells its manager READY=1 once
// every service has started, WATCHDOG=1 at half of WATCHDOG_USEC, a one-line STATUS= when it changes,
// and STOPPING=1 when it shuts down. The watchdog timer does not ping by itself: it posts WatchdogDue to
// the loop, and only the loop's answer (Announce watchdog) sends the ping, so a loop that is stalled,
// blocked or stopped goes silent and systemd acts.
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { Input } from "../../core/stack/inputs.js";
import type { Logger } from "../outputs/logger.js";
import { loadUnixDgram, type DgramSocket } from "./unix-dgram.js";

/** STATUS= is sent at most this often */
export const STATUS_MIN_INTERVAL_MS = 1_000;

export interface ManagerEnv {
  readonly NOTIFY_SOCKET?: string | undefined;
  readonly WATCHDOG_USEC?: string | undefined;
  readonly WATCHDOG_PID?: string | undefined;
}

export interface NotifierOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly post: (input: Input) => void;
  /** the stack's summary now ("12 running, 1 backoff") */
  readonly summary: () => string;
}

export class SystemdNotifier {
  #socket: DgramSocket | null = null;
  #watchdog: TimerHandle | null = null;
  #status: TimerHandle | null = null;
  #lastStatus: string | null = null;
  #lastStatusAtMs = -Infinity;
  #closed = false;

  private constructor(
    private readonly path: string,
    /** half of WATCHDOG_USEC, in ms; null: no pings are asked for (or they are for another pid) */
    readonly pingEveryMs: number | null,
    private readonly opts: NotifierOptions,
  ) {}

  /** null where no manager listens (NOTIFY_SOCKET unset), or what it asks cannot be done (said in the log) */
  static fromEnv(env: ManagerEnv, pid: number, opts: NotifierOptions): SystemdNotifier | null {
    const path = env.NOTIFY_SOCKET;
    if (path === undefined || path === "") return null;
    const warn = (msg: string): null => (opts.logger.log("warn", null, "systemd-notify", msg), null);
    if (path.startsWith("@")) return warn(`NOTIFY_SOCKET ${path} is in the abstract namespace, which vigil cannot send to; systemd is not told of readiness or liveness`);
    if (!path.startsWith("/")) return warn(`NOTIFY_SOCKET ${path} is not an absolute path; systemd is not told of readiness or liveness`);
    const dgram = loadUnixDgram();
    if (!dgram.ok) return warn(`cannot tell systemd of readiness or liveness: ${dgram.why}`);
    const usec = Number(env.WATCHDOG_USEC ?? "");
    let pingEveryMs = Number.isSafeInteger(usec) && usec > 0 ? Math.max(1, Math.floor(usec / 2000)) : null;
    if (pingEveryMs !== null && env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== "" && env.WATCHDOG_PID !== String(pid)) {
      opts.logger.log("info", null, "systemd-notify", `WATCHDOG_PID ${env.WATCHDOG_PID} is not vigil's pid ${pid}: no watchdog pings`);
      pingEveryMs = null;
    }
    const notifier = new SystemdNotifier(path, pingEveryMs, opts);
    notifier.#socket = dgram.module.createSocket("unix_dgram");
    notifier.#socket.on("error", (err) => opts.logger.log("warn", null, "systemd-notify", `NOTIFY_SOCKET ${path}: ${err.message}`));
    return notifier;
  }

  /** Starts the watchdog timer, and says where it sends. */
  start(): void {
    this.opts.logger.log("info", null, "systemd-notify", `telling systemd at ${this.path}${this.pingEveryMs === null ? "" : `, watchdog every ${this.pingEveryMs} ms`}`);
    this.#armWatchdog();
  }

  /** The loop's Announce effects. */
  announce(what: "ready" | "stopping" | "watchdog"): void {
    if (what === "ready") this.#send(`READY=1\nSTATUS=${this.opts.summary()}`);
    else if (what === "stopping") this.#send("STOPPING=1\nSTATUS=stopping");
    else this.#send("WATCHDOG=1");
  }

  /** Something may have changed: the summary is looked at within STATUS_MIN_INTERVAL_MS, and sent if new. */
  changed(): void {
    if (this.#status !== null || this.#closed) return;
    const { clock } = this.opts;
    const delayMs = Math.max(0, this.#lastStatusAtMs + STATUS_MIN_INTERVAL_MS - clock.now());
    this.#status = clock.setTimer(delayMs, () => {
      this.#status = null;
      const text = this.opts.summary();
      if (text === this.#lastStatus) return;
      this.#lastStatusAtMs = clock.now();
      this.#send(`STATUS=${text}`);
    });
  }

  close(): void {
    this.#closed = true;
    if (this.#watchdog !== null) this.opts.clock.clearTimer(this.#watchdog);
    if (this.#status !== null) this.opts.clock.clearTimer(this.#status);
    this.#watchdog = this.#status = null;
    try {
      this.#socket?.close();
    } catch {
      // already closed
    }
    this.#socket = null;
  }

  #armWatchdog(): void {
    if (this.pingEveryMs === null || this.#closed) return;
    this.#watchdog = this.opts.clock.setTimer(this.pingEveryMs, () => {
      this.#watchdog = null;
      this.#armWatchdog();
      this.opts.post({ type: "WatchdogDue" });
    });
  }

  #send(text: string): void {
    if (!this.#socket) return;
    if (text.startsWith("STATUS=")) this.#lastStatus = text.slice("STATUS=".length);
    else {
      const status = /\nSTATUS=(.*)$/.exec(text);
      if (status) this.#lastStatus = status[1]!;
    }
    const buf = Buffer.from(text);
    this.#socket.send(buf, 0, buf.length, this.path, (err) => {
      if (err) this.opts.logger.log("warn", null, "systemd-notify", `cannot send to NOTIFY_SOCKET ${this.path}: ${err.message}`);
    });
  }
}
