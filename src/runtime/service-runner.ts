import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Effect, ServiceEvent, TimerName } from "../core/events.js";
import { transition } from "../core/service-machine.js";
import { initialStatus, type ServiceStatus } from "../core/service-state.js";
import type { ServiceConfig } from "../manifest/types.js";
import { spawnChild, type ChildHandle } from "./child.js";
import { killTree, signalGroup } from "./kill.js";
import type { Logger } from "./logger.js";
import { isoOfWall } from "./iso-time.js";
import { RotatingLog, type LogFileHooks } from "./log-file.js";
import type { Printer } from "./printer.js";

const DEFAULT_HEARTBEAT_MS = 5_000;
const TOKEN_BYTES = 16;

/** process.env as plain strings, read once per turn: a start of 1,000 services reads it once, not 1,000 times */
let envOfTurn: Readonly<Record<string, string>> | null = null;

function supervisorEnv(): Readonly<Record<string, string>> {
  if (envOfTurn === null) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    envOfTurn = env;
    queueMicrotask(() => (envOfTurn = null));
  }
  return envOfTurn;
}

/** random bytes for 256 tokens at a time: one call to the CSPRNG per 256 spawns instead of one each */
let tokenPool = Buffer.alloc(0);
let tokenAt = 0;

function newToken(): string {
  if (tokenAt + TOKEN_BYTES > tokenPool.length) {
    tokenPool = randomBytes(TOKEN_BYTES * 256);
    tokenAt = 0;
  }
  tokenAt += TOKEN_BYTES;
  return tokenPool.toString("hex", tokenAt - TOKEN_BYTES, tokenAt);
}

export interface RunnerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly printer: Printer;
  readonly stateDir: string;
  readonly random: () => number;
  /** called after every transition that changed the status */
  readonly onChange: (runner: ServiceRunner, previous: ServiceStatus) => void;
  readonly onSpawned?: (runner: ServiceRunner, pid: number) => void;
  readonly onExited?: (runner: ServiceRunner, pid: number) => void;
  /** a message over the child's IPC channel, with the token of the child that sent it */
  readonly onMessage?: (runner: ServiceRunner, token: string, message: unknown) => void;
  readonly onOutput?: (runner: ServiceRunner) => void;
  /** environment every child gets besides its own: VIGIL_SOCKET, PATH additions */
  readonly childEnv?: Readonly<Record<string, string>>;
  /** what the log file is told: where to report failed writes, how to treat its descriptor */
  readonly logFiles?: LogFileHooks;
  /** null when a child may be spawned now; else why not (too few file descriptors), as a spawn error */
  readonly admitSpawn?: (config: ServiceConfig) => string | null;
}

/**
 * One service's effects: it owns the child, the timers and the log file, feeds events to the pure
 * machine one at a time, and carries out the effects the machine returns.
 */
export class ServiceRunner {
  status: ServiceStatus = initialStatus;
  private readonly queue: ServiceEvent[] = [];
  private draining = false;
  /** the event whose effects are being carried out */
  private applying: ServiceEvent | null = null;
  private readonly timers = new Map<TimerName, TimerHandle>();
  private child: ChildHandle | null = null;
  private readonly log: RotatingLog;
  token = "";
  /** what the current child's environment has beyond the supervisor's own (see env) */
  private ownEnv: Readonly<Record<string, string>> = {};

  constructor(
    public config: ServiceConfig,
    private readonly deps: RunnerDeps,
  ) {
    this.log = new RotatingLog(join(deps.stateDir, "logs", `${config.name}.log`), {
      maxBytes: config.logs.maxBytes,
      keep: config.logs.keep,
      ...deps.logFiles,
    });
  }

  get name(): string {
    return this.config.name;
  }

  /**
   * The environment of the current child (probes run with it): the supervisor's, then the service's
   * own. Made when asked rather than kept: a copy of process.env is about 80 fresh strings, which for
   * 1,000 services was 5 MiB of the supervisor's heap.
   */
  get env(): Record<string, string> {
    return { ...supervisorEnv(), ...this.ownEnv };
  }

  dispatch(event: ServiceEvent): void {
    this.queue.push(event);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let e = this.queue.shift(); e; e = this.queue.shift()) this.apply(e);
    } finally {
      this.draining = false;
    }
  }

  async close(): Promise<void> {
    for (const handle of this.timers.values()) this.deps.clock.clearTimer(handle);
    this.timers.clear();
    await this.log.close();
  }

  private apply(event: ServiceEvent): void {
    this.applying = event;
    const previous = this.status;
    const { status, effects } = transition(previous, event, {
      nowMs: this.deps.clock.now(),
      random: this.deps.random(),
      restart: this.config.restart,
      stop: this.config.stop,
    });
    this.status = status;
    try {
      for (const effect of effects) this.perform(effect);
    } finally {
      this.applying = null;
    }
    if (status !== previous) this.deps.onChange(this, previous);
  }

  private perform(effect: Effect): void {
    switch (effect.type) {
      case "Spawn":
        return this.spawn(effect.incarnation);
      case "Signal":
        if (this.status.pid !== null) signalGroup(this.status.pid, effect.signal);
        return;
      case "KillTree": {
        const pid = this.status.pid;
        if (pid === null) return;
        signalGroup(pid, "SIGKILL");
        void killTree(pid, "SIGKILL");
        return;
      }
      case "StartTimer":
        return this.startTimer(effect.timer, effect.delayMs);
      case "CancelTimer":
        return this.cancelTimer(effect.timer);
      case "Log":
        return this.deps.logger.log(effect.level, this.name, effect.event, effect.msg, effect.fields);
      default: {
        const never: never = effect;
        throw new Error(`bug: unknown effect ${JSON.stringify(never)}`);
      }
    }
  }

  private spawn(incarnation: number): void {
    const refused = this.deps.admitSpawn?.(this.config) ?? null;
    if (refused !== null) {
      // as a failed spawn is: on a later turn, then by the restart policy
      queueMicrotask(() => this.dispatch({ type: "SpawnFailed", incarnation, error: refused }));
      return;
    }
    const token = newToken();
    this.token = token;
    this.ownEnv = {
      ...this.deps.childEnv,
      ...this.config.env,
      VIGIL_SERVICE: this.name,
      VIGIL_TOKEN: token,
      VIGIL_HEARTBEAT_MS: String(this.config.heartbeat?.intervalMs ?? DEFAULT_HEARTBEAT_MS),
    };
    const env = this.env;
    const ipc = this.config.heartbeat?.via === "ipc";
    let pid: number | undefined;
    const child = spawnChild(this.config, env, ipc, {
      onLine: (stream, line) => {
        this.deps.printer.line(this.name, stream, line);
        this.log.write(`${isoOfWall(this.deps.clock.wallNow())} ${stream} ${line}`);
        this.deps.onOutput?.(this);
      },
      onExit: (code, signal) => {
        if (pid !== undefined) {
          // the main process is gone; whatever it left in its process group goes with it
          signalGroup(pid, "SIGKILL");
          this.deps.onExited?.(this, pid);
        }
        if (this.child === child) this.child = null;
        this.dispatch({ type: "ChildExited", incarnation, code, signal });
      },
      onSpawnError: (message) => this.dispatch({ type: "SpawnFailed", incarnation, error: message }),
      onMessage: (message) => this.deps.onMessage?.(this, token, message),
    });
    pid = child.pid;
    if (pid === undefined) return;
    this.child = child;
    this.deps.onSpawned?.(this, pid);
    this.queue.push({ type: "Spawned", incarnation, pid });
  }

  private startTimer(timer: TimerName, delayMs: number): void {
    this.cancelTimer(timer);
    // `backoff: { initial: 0 }` after a child's exit: restart in this turn. (After a failed spawn the
    // timer stays: a command that cannot start must not respawn in a loop that never yields.)
    if (timer === "backoff" && delayMs <= 0 && this.applying?.type === "ChildExited") {
      this.queue.push({ type: "BackoffElapsed" });
      return;
    }
    const fire = (): void => {
      this.timers.delete(timer);
      this.dispatch(timer === "backoff" ? { type: "BackoffElapsed" } : { type: "StopTimedOut" });
    };
    this.timers.set(timer, this.deps.clock.setTimer(delayMs, fire));
  }

  private cancelTimer(timer: TimerName): void {
    const handle = this.timers.get(timer);
    if (handle === undefined) return;
    this.deps.clock.clearTimer(handle);
    this.timers.delete(timer);
  }
}
