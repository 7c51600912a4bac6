// The adapter of `adopt:` services: their Spawn finds a process vigil did not start (pidfile or command
// line) and reports it as the instance's child; its exit is seen by polling the process table (pid and start time,
// so a reused pid is not mistaken for it), its log file's growth is reported as output. Where nothing is
// found and the service has a `command`, that command is run the way monit runs a start program: in the
// background, then the process is looked for again until adopt.start_timeout (a command that stays in
// the foreground is itself what is found, by the pidfile it writes or the pattern it matches).
// Stopping (vigil down, vigil stop) releases the process, leaving it running, unless adopt.on_stop: signal.
import { spawn as spawnProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../../core/clock.js";
import { pickMatch, pidOfPidfile, type Candidate, type Found } from "../../core/adopt-match.js";
import type { SpawnSpec } from "../../core/stack/effects.js";
import type { InstanceId } from "../../core/stack/ids.js";
import type { Input } from "../../core/stack/inputs.js";
import type { SignalName } from "../../core/types.js";
import type { AdoptConfig } from "../../manifest/types.js";
import { isLiveState } from "../process/proc.js";
import { processes } from "../process/table.js";

export interface AdopterOptions {
  readonly clock: Clock;
  readonly post: (input: Input) => void;
  /** STATE_DIR/logs: a start command's output goes to NAME.log there */
  readonly logsDir: string;
  /** VIGIL_SOCKET and PATH, as every child gets */
  readonly childEnv: Readonly<Record<string, string>>;
  /** pids that never count as the adopted process: vigil and the children it spawned */
  readonly ownPids: () => ReadonlySet<number>;
  /** whether the instance's current stop lets the process go (a stop, a shutdown, a reload) rather than ending it to start it again */
  readonly holds: (id: InstanceId) => boolean;
  readonly env?: NodeJS.ProcessEnv;
}

interface Watched {
  readonly incarnation: number;
  readonly pid: number;
  readonly startTime: number;
  readonly spec: SpawnSpec;
  readonly adopt: AdoptConfig;
  timer: TimerHandle | null;
  /** the log file's size and mtime at the last look */
  log: string | null;
}

interface Starting {
  readonly incarnation: number;
  timer: TimerHandle | null;
}

/** how often a start command's process is looked for */
const START_POLL_MS = 100;

export class Adopter {
  readonly #watched = new Map<InstanceId, Watched>();
  readonly #starting = new Map<InstanceId, Starting>();
  /** exit statuses of start commands that vigil ran itself, by pid: an adopted one of them tells its own */
  readonly #exits = new Map<number, { readonly code: number | null; readonly signal: string | null }>();

  constructor(private readonly opts: AdopterOptions) {}

  /** The Spawn of an adopted instance: find it, or start it with its command, or fail. */
  spawn(id: InstanceId, incarnation: number, spec: SpawnSpec): void {
    const adopt = spec.adopt;
    if (!adopt) throw new Error(`bug: ${id} is not adopted`);
    this.#stopWatching(id);
    const found = this.#find(adopt);
    if (found.ok) return this.#adopt(id, incarnation, spec, adopt, found.pid, "found");
    if (spec.argv.length === 0) return this.#fail(id, incarnation, found.error);
    this.#runStart(id, incarnation, spec, adopt, found.error);
  }

  /** The stop signal: to the process, or, for a stop that holds it down, a release (adopt.on_stop). */
  signal(id: InstanceId, incarnation: number, signal: SignalName): void {
    const watched = this.#current(id, incarnation);
    if (!watched) return;
    if (watched.adopt.onStop === "release" && this.opts.holds(id)) return this.#release(id, watched);
    this.#kill(watched.pid, signal);
  }

  kill(id: InstanceId, incarnation: number): void {
    const watched = this.#current(id, incarnation);
    if (!watched) return;
    if (watched.adopt.onStop === "release" && this.opts.holds(id)) return this.#release(id, watched);
    this.#kill(watched.pid, "SIGKILL");
  }

  owns(id: InstanceId): boolean {
    return this.#watched.has(id) || this.#starting.has(id);
  }

  /** Main pids of the adopted processes, for the resource sweep. */
  pids(): Map<InstanceId, number> {
    const pids = new Map<InstanceId, number>();
    for (const [id, watched] of this.#watched) pids.set(id, watched.pid);
    return pids;
  }

  forget(id: InstanceId): void {
    this.#stopWatching(id);
  }

  /** vigil is closing: nothing is watched any more; the processes themselves go on. */
  close(): void {
    for (const id of [...this.#watched.keys(), ...this.#starting.keys()]) this.#stopWatching(id);
  }

  #find(adopt: AdoptConfig): Found {
    if (adopt.pidfile !== null) {
      const found = pidOfPidfile(adopt.pidfile, readText(adopt.pidfile));
      if (!found.ok) return found;
      const stat = processes().read(found.pid);
      if (stat === null || !isLiveState(stat.state)) return { ok: false, error: `pidfile ${adopt.pidfile} names pid ${found.pid}, which is not running` };
      return found;
    }
    const pattern = adopt.match ?? "";
    const own = new Set(this.opts.ownPids());
    own.add(process.pid);
    return pickMatch(pattern, candidates(), own);
  }

  #adopt(id: InstanceId, incarnation: number, spec: SpawnSpec, adopt: AdoptConfig, pid: number, how: string): void {
    const stat = processes().read(pid);
    if (stat === null || !isLiveState(stat.state)) return this.#fail(id, incarnation, `pid ${pid} ended as it was found`);
    const watched: Watched = { incarnation, pid, startTime: stat.startTime, spec, adopt, timer: null, log: logMark(spec.logFile ?? null) };
    this.#watched.set(id, watched);
    const env = this.opts.env ?? process.env;
    const token = (spec.tokenEnv ? env[spec.tokenEnv]?.trim() : undefined) || randomBytes(16).toString("hex");
    const detail = adopt.pidfile !== null ? `pidfile ${adopt.pidfile}` : `command line matches /${adopt.match ?? ""}/`;
    this.opts.post({ type: "ChildSpawned", id, incarnation, pid, token });
    this.opts.post({ type: "AdoptNoticed", id, outcome: "adopted", pid, detail: how === "found" ? detail : `${detail}, after its command` });
    this.#schedule(id, watched);
  }

  #schedule(id: InstanceId, watched: Watched): void {
    watched.timer = this.opts.clock.setTimer(watched.adopt.pollMs, () => this.#poll(id, watched));
  }

  #poll(id: InstanceId, watched: Watched): void {
    watched.timer = null;
    if (this.#watched.get(id) !== watched) return;
    const stat = processes().read(watched.pid);
    if (stat === null || !isLiveState(stat.state) || stat.startTime !== watched.startTime) {
      this.#watched.delete(id);
      const exit = this.#exits.get(watched.pid);
      this.#exits.delete(watched.pid);
      this.opts.post({ type: "ChildExited", id, incarnation: watched.incarnation, code: exit?.code ?? null, signal: exit?.signal ?? null });
      return;
    }
    const mark = logMark(watched.spec.logFile ?? null);
    if (mark !== null && mark !== watched.log) this.opts.post({ type: "OutputSeen", id, incarnation: watched.incarnation });
    watched.log = mark;
    this.#schedule(id, watched);
  }

  #release(id: InstanceId, watched: Watched): void {
    this.#stopWatching(id);
    this.opts.post({ type: "AdoptNoticed", id, outcome: "released", pid: watched.pid, detail: "" });
    this.opts.post({ type: "ChildExited", id, incarnation: watched.incarnation, code: null, signal: null });
  }

  /** monit's start program: run in the background, then look for the process until start_timeout. */
  #runStart(id: InstanceId, incarnation: number, spec: SpawnSpec, adopt: AdoptConfig, notFound: string): void {
    const { clock } = this.opts;
    const env = this.opts.env ?? process.env;
    const token = spec.tokenEnv ? env[spec.tokenEnv]?.trim() : undefined;
    let out: number | "ignore" = "ignore";
    try {
      mkdirSync(this.opts.logsDir, { recursive: true, mode: 0o700 });
      out = openSync(join(this.opts.logsDir, `${spec.name}.log`), "a", 0o600);
    } catch {
      // the command runs all the same; its output is lost
    }
    let ended: { readonly code: number | null; readonly signal: string | null; readonly error?: string } | null = null;
    const [file, ...args] = spec.argv;
    const child = spawnProcess(file ?? "", args, {
      cwd: spec.cwd,
      env: { ...env, ...this.opts.childEnv, ...spec.env, VIGIL_SERVICE: spec.service, ...(token ? { VIGIL_TOKEN: token } : {}) },
      detached: true,
      stdio: ["ignore", out, out],
    });
    if (typeof out === "number") closeSync(out);
    child.unref();
    const pid = child.pid;
    child.once("error", (err) => (ended = { code: null, signal: null, error: err.message }));
    child.once("exit", (code, signal) => {
      ended = { code, signal };
      if (pid !== undefined) this.#exits.set(pid, { code, signal });
    });
    const starting: Starting = { incarnation, timer: null };
    this.#starting.set(id, starting);
    const deadline = clock.now() + adopt.startTimeoutMs;
    const look = (): void => {
      starting.timer = null;
      if (this.#starting.get(id) !== starting) return;
      const found = this.#find(adopt);
      if (found.ok) {
        this.#starting.delete(id);
        return this.#adopt(id, incarnation, spec, adopt, found.pid, "started");
      }
      const done = ended as typeof ended;
      const failed = done !== null && (done.error !== undefined || done.code !== 0);
      if (failed || clock.now() >= deadline) {
        this.#starting.delete(id);
        if (done === null && pid !== undefined) this.#kill(-pid, "SIGKILL");
        const how = done === null ? `did not bring it up within ${adopt.startTimeoutMs} ms (killed)`
          : done.error !== undefined ? `could not run: ${done.error}`
          : `ended with ${done.signal ?? `code ${done.code}`}`;
        return this.#fail(id, incarnation, `${notFound}; its command ${how}; then: ${found.error}`);
      }
      starting.timer = clock.setTimer(START_POLL_MS, look);
    };
    starting.timer = clock.setTimer(START_POLL_MS, look);
  }

  #fail(id: InstanceId, incarnation: number, error: string): void {
    const { post } = this.opts;
    // as a failed spawn is: on a later turn, then by the restart policy
    queueMicrotask(() => post({ type: "SpawnFailed", id, incarnation, error }));
  }

  #kill(pid: number, signal: SignalName): void {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already: the next look reports it
    }
  }

  #current(id: InstanceId, incarnation: number): Watched | undefined {
    const watched = this.#watched.get(id);
    return watched?.incarnation === incarnation ? watched : undefined;
  }

  #stopWatching(id: InstanceId): void {
    const watched = this.#watched.get(id);
    if (watched?.timer) this.opts.clock.clearTimer(watched.timer);
    this.#watched.delete(id);
    const starting = this.#starting.get(id);
    if (starting?.timer) this.opts.clock.clearTimer(starting.timer);
    this.#starting.delete(id);
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8").slice(0, 4096);
  } catch {
    return null;
  }
}

/** size and mtime of the log file, as one string; null when it cannot be read */
function logMark(path: string | null): string | null {
  if (path === null) return null;
  try {
    const stat = statSync(path);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return null;
  }
}

function candidates(): Candidate[] {
  const table = processes();
  const found: Candidate[] = [];
  for (const [pid, cmdline] of table.commandLines(table.pids())) if (cmdline !== "?") found.push({ pid, cmdline });
  return found;
}
