import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { Effect, ServiceEvent, TimerName } from "../core/events.js";
import { transition } from "../core/service-machine.js";
import { initialStatus, type ServiceStatus } from "../core/service-state.js";
import type { ServiceConfig } from "../manifest/types.js";
import { spawnChild, type ChildHandle } from "./child.js";
import type { Logger } from "./logger.js";
import { isSameProcess } from "./proc.js";
import type { CgroupRoot } from "./process/cgroup.js";
import { Job, type JobMember } from "./process/job.js";
import type { ProcScanner } from "./process/proc-snapshot.js";
import type { StrayReaper } from "./process/stray-reaper.js";
import { holdersOf } from "./process/token-scan.js";
import { isoOfWall } from "./iso-time.js";
import { RotatingLog, type LogFileHooks } from "./log-file.js";
import type { Printer } from "./printer.js";

const DEFAULT_HEARTBEAT_MS = 5_000;
const PYTHON_UNBUFFERED: Readonly<Record<string, string>> = { PYTHONUNBUFFERED: "1" };
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

/** What a runner needs to find and end every process of its child's job. */
export interface JobDeps {
  readonly scanner: ProcScanner;
  /** null where vigil cannot make cgroups */
  readonly cgroups: CgroupRoot | null;
  readonly strays: StrayReaper;
}

/** how often a job whose main process has exited is looked at until the rest of it is gone */
const DRAIN_POLL_MS = 25;
/** after SIGKILL, how long before a process that will not go is given up (and named in an error) */
const KILL_WAIT_MS = 3_000;

export interface RunnerDeps {
  readonly clock: Clock;
  readonly jobs: JobDeps;
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
  /** every process of the current child; kept until the last of them is gone */
  private job: Job | null = null;
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
        this.job?.stop(effect.signal, this.deps.jobs.scanner.current());
        return;
      case "KillTree":
        this.job?.kill(this.deps.jobs.scanner.current());
        return;
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
      // Python buffers what it prints to a pipe: a child that prints and does not flush would look silent
      ...(process.env["PYTHONUNBUFFERED"] === undefined ? PYTHON_UNBUFFERED : {}),
      ...this.config.env,
      VIGIL_SERVICE: this.name,
      VIGIL_TOKEN: token,
      VIGIL_HEARTBEAT_MS: String(this.config.heartbeat?.intervalMs ?? DEFAULT_HEARTBEAT_MS),
    };
    const env = this.env;
    const ipc = this.config.heartbeat?.via === "ipc";
    let pid: number | undefined;
    const root = this.deps.jobs.cgroups;
    const cgroup = root?.forInstance(this.name) ?? null;
    const child = spawnChild(this.config, env, ipc, {
      onLine: (stream, line) => {
        this.deps.printer.line(this.name, stream, line);
        this.log.write(`${isoOfWall(this.deps.clock.wallNow())} ${stream} ${line}`);
        this.deps.onOutput?.(this);
      },
      onExit: (code, signal) => {
        if (pid !== undefined) this.deps.onExited?.(this, pid);
        const ended = (): void => {
          child.release();
          if (this.child === child) this.child = null;
          if (this.job === job) this.job = null;
          // born inside a cgroup, a job cannot have escaped it; without one, look once more a moment later
          if (job && job.cgroup === null) this.deps.jobs.strays.ended(job.token, this.name);
          this.dispatch({ type: "ChildExited", incarnation, code, signal });
        };
        if (job) this.drain(job, code, ended);
        else ended();
      },
      onSpawnError: (message) => this.dispatch({ type: "SpawnFailed", incarnation, error: message }),
      onMessage: (message) => this.deps.onMessage?.(this, token, message),
    }, root && cgroup ? { root, cgroup } : null);
    pid = child.pid;
    if (pid === undefined) return;
    const job = new Job(token, pid, child.inCgroup ? cgroup : null);
    this.job = job;
    this.child = child;
    this.deps.onSpawned?.(this, pid);
    this.queue.push({ type: "Spawned", incarnation, pid });
  }

  /** A sweep of /proc saw this tree under the main process `pid`: its members belong to that child's job. */
  adoptMembers(pid: number, tree: Parameters<Job["adopt"]>[0]): void {
    if (this.job?.pid === pid) this.job.adopt(tree);
  }

  /**
   * The main process has exited. Whatever else of its job still runs (in its group, its cgroup, or
   * known from its tree) gets the stop signal and SIGCONT, then SIGKILL after stop.timeout; `ended`
   * runs once nothing is left.
   */
  private drain(job: Job, code: number | null, ended: () => void): void {
    const { scanner } = this.deps.jobs;
    const clock = this.deps.clock;
    const left = (): boolean => job.mayLive(isSameProcess) && job.members(scanner.current()).length > 0;
    // without a cgroup, what left the tree and the group is found by its token (a daemon's double fork)
    if (job.cgroup === null) job.adopt(holdersOf(job.token, job.pid));
    if (!left()) return ended();
    const snap = scanner.fresh();
    this.warnLeftovers(job.describe(snap), code);
    job.stop(this.config.stop.signal, snap);
    const startedMs = clock.now();
    let killedAtMs: number | null = null;
    const poll = (): void => {
      if (!left()) return ended();
      const now = clock.now();
      if (killedAtMs === null && now - startedMs >= this.config.stop.timeoutMs) {
        killedAtMs = now;
        job.kill(scanner.fresh());
      } else if (killedAtMs !== null && now - killedAtMs >= KILL_WAIT_MS) {
        const stuck = job.describe(scanner.fresh()).map(describeMember).join(", ");
        this.deps.logger.log("error", this.name, "job-stuck", `cannot end what its child left: ${stuck}`);
        return ended();
      }
      clock.setTimer(DRAIN_POLL_MS, poll);
    };
    clock.setTimer(DRAIN_POLL_MS, poll);
  }

  private warnLeftovers(members: readonly JobMember[], code: number | null): void {
    if (members.length === 0) return;
    const daemons = members.filter((m) => m.escaped);
    const which = members.map(describeMember).join(", ");
    const hint = daemons.length > 0 && code === 0
      ? "; it daemonized: run it in the foreground (its --foreground / --no-daemon / daemonize no option) so that vigil supervises it"
      : "";
    const count = members.length === 1 ? "1 process" : `${members.length} processes`;
    this.deps.logger.log("warn", this.name, "job-leftovers", `its main process exited but left ${count} running: ${which}; stopping them${hint}`, {
      pids: members.map((m) => m.pid),
    });
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

function describeMember(m: JobMember): string {
  return `pid ${m.pid} (${m.command})`;
}
