// The process adapter: starts children (Spawn), signals and kills their jobs (Signal, KillJob), carries
// their output to the terminal and the per-instance log, reads their IPC channel, and reports spawn,
// exit and output to the loop. A child has exited when its whole job has (job.ts), not before.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../../core/clock.js";
import { parseChildMessage } from "../../core/heartbeat-message.js";
import type { SpawnSpec } from "../../core/stack/effects.js";
import type { InstanceId } from "../../core/stack/ids.js";
import type { Input } from "../../core/stack/inputs.js";
import type { SignalName } from "../../core/types.js";
import { NOT_JSON, spawnChild, TOO_LONG, type ChildHandle } from "./child.js";
import { WallIso } from "../iso-time.js";
import { RotatingLog, type LogFileHooks } from "../outputs/log-file.js";
import type { ChildRegistry } from "./orphans.js";
import type { Printer } from "../outputs/printer.js";
import type { ProcStat } from "./proc.js";
import { isSameProcess } from "./table.js";
import type { CgroupRoot } from "./cgroup.js";
import { Job, type JobMember, type Look } from "./job.js";
import type { ProcScanner } from "./proc-snapshot.js";
import type { StrayReaper } from "./stray-reaper.js";
import { holdersOf } from "./token-scan.js";
import { KILLED_EXIT_GRACE_MS, nudgeReaper } from "./reap-nudge.js";

/** What the spawner needs to find and end every process of a child's job. */
export interface JobDeps {
  readonly scanner: ProcScanner;
  /** null where vigil cannot make cgroups */
  readonly cgroups: CgroupRoot | null;
  readonly strays: StrayReaper;
}

export interface SpawnerOptions {
  readonly clock: Clock;
  readonly post: (input: Input) => void;
  readonly printer: Printer;
  /** STATE_DIR/logs */
  readonly logsDir: string;
  /** environment every child gets besides its own: VIGIL_SOCKET, PATH */
  readonly childEnv: Readonly<Record<string, string>>;
  readonly jobs: JobDeps;
  readonly registry: ChildRegistry;
  /** the supervisor's own environment; process.env by default */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * true when nothing changes that environment while vigil runs (`vigil up`: no code but vigil's runs
   * in it, and vigil never sets a variable): it is copied once, not once per turn that spawns
   */
  readonly envFixed?: boolean;
  /** what the log files are told: where to report failed writes, how to treat their descriptors */
  readonly logFiles?: LogFileHooks;
  /** null when a child may be spawned now; else why not (too few file descriptors), as a spawn error */
  readonly admitSpawn?: (spec: SpawnSpec) => string | null;
}

interface Running {
  readonly incarnation: number;
  readonly pid: number;
  readonly token: string;
  readonly spec: SpawnSpec;
  readonly handle: ChildHandle;
  readonly job: Job;
  /** what the child's environment has beyond the supervisor's own */
  readonly ownEnv: Readonly<Record<string, string>>;
}

/** how often a job whose main process has exited is looked at until the rest of it is gone */
const DRAIN_POLL_MS = 25;
/** after SIGKILL, how long before a process that will not go is given up (and named in an error) */
const KILL_WAIT_MS = 3_000;
const TOKEN_BYTES = 16;
/**
 * how long after its spawn a child is written down in children.json, for the next `vigil up` to find
 * should this one be killed: a child that lives less than this costs no record (a crash loop's). A
 * SIGKILL of vigil within this moment of a spawn leaves that child off the record; in a cgroup, the
 * next `vigil up` still ends it with the rest of the dead supervisor's cgroups (found through any of
 * its children on record).
 */
const RECORD_AFTER_MS = 20;
const PYTHON_UNBUFFERED: Readonly<Record<string, string>> = { PYTHONUNBUFFERED: "1" };
/** systemd's words to vigil itself: a child that read them would speak to systemd for vigil (a `via: notify` child gets its own) */
const SUPERVISOR_ONLY: ReadonlySet<string> = new Set(["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"]);

export class Spawner {
  readonly #running = new Map<InstanceId, Running>();
  /** jobs given their stop signal in this turn, whose members outside the group get it at its end */
  readonly #toStopOutside = new Map<Running, { readonly id: InstanceId; readonly signal: NodeJS.Signals }>();
  /** jobs whose main process exited, waiting for the next token search */
  readonly #toSearch = new Map<Running, () => void>();
  /** by file name: an instance renamed by a scale writes to its new file from its next child on */
  readonly #logs = new Map<string, RotatingLog>();
  readonly #logOf = new Map<InstanceId, string>();
  readonly #wallIso = new WallIso();
  readonly #tokens = new TokenPool();
  /** instances whose output was seen since the loop last heard of it */
  readonly #outputSeen = new Map<InstanceId, number>();
  /** children spawned in the last RECORD_AFTER_MS, to be recorded in children.json */
  readonly #toRecord = new Map<number, Running & { readonly id: InstanceId }>();
  /** the batch of #toRecord has its timer */
  #recordDue = false;
  #envOfTurn: Readonly<Record<string, string>> | null = null;
  /** children given SIGKILL whose exit has not been heard yet: a timer each (reap-nudge.ts) */
  readonly #killed = new Map<Running, TimerHandle>();

  constructor(private readonly opts: SpawnerOptions) {}

  /** `fds`: the service's listening sockets, one per entry of spec.sockets */
  spawn(id: InstanceId, incarnation: number, spec: SpawnSpec, fds: readonly number[] = []): void {
    const { post, printer, clock, jobs } = this.opts;
    const refused = this.opts.admitSpawn?.(spec) ?? null;
    // as a failed spawn is: on a later turn, then by the restart policy
    if (refused !== null) return queueMicrotask(() => post({ type: "SpawnFailed", id, incarnation, error: refused }));
    const token = this.#tokens.next();
    const ownEnv: Record<string, string> = {
      ...this.opts.childEnv,
      // Python buffers what it prints to a pipe: a child that prints and does not flush would look silent
      ...((this.opts.env ?? process.env)["PYTHONUNBUFFERED"] === undefined ? PYTHON_UNBUFFERED : {}),
      ...spec.env,
      VIGIL_TOKEN: token,
    };
    const log = this.#log(id, spec);
    const root = jobs.cgroups;
    const cgroup = root?.forInstance(spec.job) ?? null;
    let running: Running | undefined;
    const handle = spawnChild(spec, { ...this.#supervisorEnv(), ...ownEnv }, spec.ipc, {
      onLine: (stream, line) => {
        const wallMs = clock.wallNow();
        printer.line(spec.name, stream, line, wallMs);
        log.write(`${this.#wallIso.of(wallMs)} ${stream} ${line}`);
        this.#sawOutput(id, incarnation);
      },
      onExit: (code, signal) => {
        if (!running) return;
        const killed = this.#killed.get(running);
        if (killed !== undefined) {
          clock.clearTimer(killed);
          this.#killed.delete(running);
        }
        this.#exited(id, running, code, signal);
      },
      onSpawnError: (error) => post({ type: "SpawnFailed", id, incarnation, error }),
      onMessage: (message) => {
        if (message === NOT_JSON) return post({ type: "MessageRejected", kind: "bad-json", service: spec.service });
        if (message === TOO_LONG) return post({ type: "MessageRejected", kind: "line-too-long", service: spec.service });
        post({ type: "IpcMessageReceived", id, incarnation, message: parseChildMessage(message) });
      },
    }, root && cgroup ? { root, cgroup } : null, fds.length > 0 ? { fds, names: spec.sockets.map((s) => s.name) } : null);
    const pid = handle.pid;
    if (pid === undefined) return;
    running = { incarnation, pid, token, spec, handle, job: new Job(token, pid, handle.inCgroup ? cgroup : null), ownEnv };
    this.#running.set(id, running);
    this.#record(id, running);
    post({ type: "ChildSpawned", id, incarnation, pid, token });
  }

  /** The stop signal, then SIGCONT, to every process of the child's job. */
  signal(id: InstanceId, incarnation: number, signal: SignalName): void {
    const running = this.#current(id, incarnation);
    // the job's own trees, read before the signal: a descendant that left the group is found while its
    // parent still holds it (the process group and the cgroup are signalled whole anyway)
    if (!running) return;
    const { job } = running;
    if (job.cgroup === null) return void job.stop(signal, this.#look(job));
    // in its cgroup from its first moments, nothing of the job can get away: its group at once, reading nothing (a
    // watchdog that stops many children in one moment acts on each in microseconds), and whoever left
    // the group from the cgroup's list at the end of the turn, if this job is still the instance's
    job.stopGroup(signal);
    if (this.#toStopOutside.size === 0) setImmediate(() => this.#stopOutside());
    this.#toStopOutside.set(running, { id, signal });
  }

  kill(id: InstanceId, incarnation: number): void {
    const running = this.#current(id, incarnation);
    if (!running) return;
    running.job.kill(this.#look(running.job));
    // SIGKILL ends the main process at once: an exit still unheard a second later was lost
    if (this.#killed.has(running)) return;
    this.#killed.set(running, this.opts.clock.setTimer(KILLED_EXIT_GRACE_MS, () => {
      this.#killed.delete(running);
      nudgeReaper();
    }));
  }

  /** SIGKILL to every job now, at once (a crash of the supervisor itself). */
  killAll(): void {
    for (const running of this.#running.values()) running.job.kill(this.opts.jobs.scanner.current());
  }

  #stopOutside(): void {
    const batch = [...this.#toStopOutside];
    this.#toStopOutside.clear();
    for (const [running, { id, signal }] of batch) {
      // an instance respawned meanwhile reuses the cgroup: its new child is not to be stopped
      if (this.#running.get(id) !== running) continue;
      running.job.stopOutsideGroup(signal, (pids) => this.opts.jobs.scanner.table.only(pids));
    }
  }

  /**
   * How a stop looks at a job: in its cgroup, the job has every process in it, whose stat is all
   * a signal needs; without one, its trees are walked from the roots.
   */
  #look(job: Job): Look {
    const { scanner } = this.opts.jobs;
    if (job.cgroup !== null) return (pids) => scanner.table.only(pids);
    return (roots) => scanner.tree(roots);
  }

  /** Every process known to belong to a live job (but those of `except`): main processes and known members. */
  livePids(except: ReadonlySet<Running> = new Set()): Set<number> {
    const pids = new Set<number>();
    for (const running of this.#running.values()) {
      if (except.has(running)) continue;
      pids.add(running.pid);
      for (const pid of running.job.known()) pids.add(pid);
    }
    return pids;
  }

  /** The instance is gone for good: its log file is closed. */
  forget(id: InstanceId): void {
    const file = this.#logOf.get(id);
    this.#logOf.delete(id);
    if (file !== undefined && ![...this.#logOf.values()].includes(file)) {
      void this.#logs.get(file)?.close();
      this.#logs.delete(file);
    }
  }

  /** The whole environment of the instance's current child (its exec probes run with it). */
  envOf(id: InstanceId): Record<string, string> {
    return { ...this.#supervisorEnv(), ...this.#running.get(id)?.ownEnv };
  }

  /** Main pids of the running children, for the resource sweep. */
  pids(): Map<InstanceId, number> {
    const pids = new Map<InstanceId, number>();
    for (const [id, running] of this.#running) pids.set(id, running.pid);
    return pids;
  }

  /** A resource sweep saw this tree under the main process `pid`: its members belong to that child's job. */
  adopt(id: InstanceId, pid: number, tree: readonly ProcStat[]): void {
    const running = this.#running.get(id);
    if (running?.pid === pid) running.job.adopt(tree);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#logs.values()].map((log) => log.close()));
    this.#logs.clear();
  }

  #current(id: InstanceId, incarnation: number): Running | undefined {
    const running = this.#running.get(id);
    return running?.incarnation === incarnation ? running : undefined;
  }

  #log(id: InstanceId, spec: SpawnSpec): RotatingLog {
    const file = join(this.opts.logsDir, `${spec.name}.log`);
    const previous = this.#logOf.get(id);
    if (previous !== file) {
      if (previous !== undefined) this.forget(id);
      this.#logOf.set(id, file);
    }
    let log = this.#logs.get(file);
    if (!log) this.#logs.set(file, (log = new RotatingLog(file, { maxBytes: spec.log.maxBytes, keep: spec.log.keep, ...this.opts.logFiles })));
    return log;
  }

  /** Output is reported once per chunk of it, not once per line. */
  #sawOutput(id: InstanceId, incarnation: number): void {
    if (this.#outputSeen.size === 0) queueMicrotask(() => this.#reportOutput());
    this.#outputSeen.set(id, incarnation);
  }

  #reportOutput(): void {
    for (const [id, incarnation] of this.#outputSeen) this.opts.post({ type: "OutputSeen", id, incarnation });
    this.#outputSeen.clear();
  }

  /**
   * The main process has exited. Whatever else of its job still runs (in its group, its cgroup, known
   * from its tree, or carrying its token) gets the stop signal and SIGCONT, then SIGKILL after
   * stop.timeout; the exit is reported once nothing is left.
   */
  #exited(id: InstanceId, running: Running, code: number | null, signal: string | null): void {
    const { scanner } = this.opts.jobs;
    const { post } = this.opts;
    const { job } = running;
    const ended = (): void => {
      running.handle.release();
      if (this.#running.get(id) === running) this.#running.delete(id);
      this.#unrecord(running.pid);
      // in a cgroup from its first moments, a job cannot have escaped it; without one, look once more a moment later
      if (job.cgroup === null) this.opts.jobs.strays.ended(job.token, id);
      post({ type: "ChildExited", id, incarnation: running.incarnation, code, signal });
    };
    const left = (): boolean => job.mayLive(isSameProcess) && job.members(scanner.current()).length > 0;
    // without a cgroup, what left the tree and the group is found by its token (a daemon's double fork)
    if (job.cgroup === null) return this.#searchTokens(running, () => (left() ? this.#drain(id, running, code, ended, left) : ended()));
    if (!left()) return ended();
    this.#drain(id, running, code, ended, left);
  }

  /** What the main process left gets its stop signal, then SIGKILL after stop.timeout; then `ended`. */
  #drain(id: InstanceId, running: Running, code: number | null, ended: () => void, left: () => boolean): void {
    const { scanner } = this.opts.jobs;
    const { clock, post } = this.opts;
    const { job, spec } = running;
    // the look `left()` took a moment ago, in this same turn (a ps run fewer on the portable backend)
    const snap = scanner.current();
    const members = job.describe(snap);
    if (members.length > 0) post({ type: "JobNoticed", id, note: leftovers(members, code) });
    job.stop(spec.stop.signal, snap);
    const startedMs = clock.now();
    let killedAtMs: number | null = null;
    const poll = (): void => {
      if (!left()) return ended();
      const now = clock.now();
      if (killedAtMs === null && now - startedMs >= spec.stop.timeoutMs) {
        killedAtMs = now;
        job.kill(scanner.fresh());
      } else if (killedAtMs !== null && now - killedAtMs >= KILL_WAIT_MS) {
        const stuck = job.describe(scanner.fresh()).map(describeMember).join(", ");
        post({ type: "JobNoticed", id, note: { kind: "stuck", text: `cannot end what its child left: ${stuck}` } });
        return ended();
      }
      clock.setTimer(DRAIN_POLL_MS, poll);
    };
    clock.setTimer(DRAIN_POLL_MS, poll);
  }

  /**
   * The token of each job whose main process has exited is looked for in the next turn, all of that
   * turn's exits in one pass over the process table: a burst of exits (a deadline missed by many, a shutdown) costs
   * one pass, and a timer due meanwhile is not held up behind it.
   */
  #searchTokens(running: Running, then: () => void): void {
    if (this.#toSearch.size === 0) this.opts.clock.setTimer(0, () => this.#searchBatch());
    this.#toSearch.set(running, then);
  }

  #searchBatch(): void {
    const batch = [...this.#toSearch];
    this.#toSearch.clear();
    const owners = new Map<string, Running>();
    for (const [running] of batch) owners.set(running.token, running);
    const skip = this.livePids(new Set(owners.values()));
    const found = holdersOf(this.opts.jobs.scanner.table, owners, Math.min(...batch.map(([running]) => running.pid)), skip);
    for (const [running, then] of batch) {
      running.job.adopt(found.get(running) ?? []);
      then();
    }
  }

  /**
   * Children are recorded RECORD_AFTER_MS after their spawn, in a batch: the stat of a process still
   * finishing its exec reads slowly, one look serves a whole start, and a child gone by then (a crash
   * loop's) is never read or written down: children.json stays as it is while a service restarts back
   * to back.
   */
  #record(id: InstanceId, running: Running): void {
    if (!this.#recordDue) this.opts.clock.setTimer(RECORD_AFTER_MS, () => this.#recordBatch());
    this.#recordDue = true;
    this.#toRecord.set(running.pid, { ...running, id });
  }

  #recordBatch(): void {
    this.#recordDue = false;
    const { table } = this.opts.jobs.scanner;
    for (const [pid, running] of this.#toRecord) {
      const stat = table.read(pid);
      if (!stat) continue;
      this.opts.registry.add({
        service: running.spec.name,
        pid,
        pgid: pid,
        startTime: stat.startTime,
        ...(table.startClock === "ticks" ? {} : { startClock: table.startClock }),
        stopSignal: running.spec.stop.signal,
        stopTimeoutMs: running.spec.stop.timeoutMs,
        token: running.token,
        ...(running.job.cgroup ? { cgroup: running.job.cgroup.path } : {}),
      });
    }
    this.#toRecord.clear();
  }

  #unrecord(pid: number): void {
    // gone before it was recorded: never read the stat of a pid that may be someone else's by now
    if (!this.#toRecord.delete(pid)) this.opts.registry.remove(pid);
  }

  /**
   * process.env as plain strings (each read of it is a call into the C environment), read once per turn:
   * a start of 1,000 services reads it once, not 1,000 times; and only once at all where it is fixed (a
   * crash loop spawns once a turn, and the copy was a twentieth of its work)
   */
  #supervisorEnv(): Readonly<Record<string, string>> {
    if (this.#envOfTurn === null) {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(this.opts.env ?? process.env)) if (v !== undefined && !SUPERVISOR_ONLY.has(k)) env[k] = v;
      this.#envOfTurn = env;
      if (this.opts.envFixed !== true) queueMicrotask(() => (this.#envOfTurn = null));
    }
    return this.#envOfTurn;
  }
}

function leftovers(members: readonly JobMember[], code: number | null): { kind: "leftovers"; text: string; pids: number[]; daemon: boolean } {
  const daemon = members.some((m) => m.escaped) && code === 0;
  const hint = daemon ? "; it daemonized: run it in the foreground (its --foreground / --no-daemon / daemonize no option) so that vigil supervises it" : "";
  const count = members.length === 1 ? "1 process" : `${members.length} processes`;
  const text = `its main process exited but left ${count} running: ${members.map(describeMember).join(", ")}; stopping them${hint}`;
  return { kind: "leftovers", text, pids: members.map((m) => m.pid), daemon };
}

function describeMember(m: JobMember): string {
  return `pid ${m.pid} (${m.command})`;
}

/** random bytes for 256 tokens at a time: one call to the CSPRNG per 256 spawns instead of one each */
class TokenPool {
  #pool = Buffer.alloc(0);
  #at = 0;

  next(): string {
    if (this.#at + TOKEN_BYTES > this.#pool.length) {
      this.#pool = randomBytes(TOKEN_BYTES * 256);
      this.#at = 0;
    }
    this.#at += TOKEN_BYTES;
    return this.#pool.toString("hex", this.#at - TOKEN_BYTES, this.#at);
  }
}
