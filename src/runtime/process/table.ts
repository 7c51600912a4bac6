// The process table: every question vigil asks about processes (the lock's holder, a job's members,
// orphans, strays, resource sweeps) goes through one of two backends. `proc` reads Linux /proc directly
// (fast: a sweep of 1,000 children is a few milliseconds); `portable` runs `ps` (macOS, the BSDs, and
// Linux on request). Chosen by platform, or by VIGIL_PROCESS_BACKEND=proc|portable.
import type { ProcStat } from "./proc.js";
import type { ProcSnapshot } from "./proc-snapshot.js";
import type { ProcUsage } from "../resources/proc-table.js";
import { procTable } from "./proc-backend.js";
import { PsTable } from "./ps-backend.js";

export type BackendName = "proc" | "portable";

/**
 * What a start time counts: clock ticks since boot (/proc/PID/stat field 22), or whole seconds since
 * the epoch (ps's lstart). Start times are compared only within one clock.
 */
export type StartClock = "ticks" | "seconds";

/** CPU time and RSS of every process, for the resource sampler (resources/sampler.ts). */
export interface UsageReader {
  /** every process now, zombies included; the event loop gets a turn after every `turnMs` of work */
  scan(turnMs: number): Promise<ProcUsage[]>;
  /** the processes being watched (a backend may keep handles open for them) */
  watch(pids: { has(pid: number): boolean; keys(): Iterable<number> }): void;
  close(): void;
  /** bytes of one unit of ProcUsage.rssPages */
  readonly pageBytes: number;
  /** units of ProcUsage.cpuTicks in a second */
  readonly ticksPerSecond: number;
}

export interface ProcessTable {
  readonly backend: BackendName;
  readonly startClock: StartClock;
  /** whether envOf can read other processes' environments (the VIGIL_TOKEN scan) */
  readonly readsEnvironment: boolean;
  /**
   * Every process, zombies included. `fresh` false: a list already taken in this turn of the event loop
   * may be handed out again (the portable table's; /proc is always read anew).
   */
  list(fresh?: boolean): ProcStat[];
  /** one process; null when it is not there (or cannot be read) */
  read(pid: number): ProcStat | null;
  /** the pid of every process */
  pids(): number[];
  /** the roots and their descendants alone, where the backend can read them cheaper than list(); else null */
  tree(roots: Iterable<number>): ProcSnapshot | null;
  /** the listed processes alone */
  only(pids: Iterable<number>): ProcSnapshot;
  /** VIGIL_TOKEN (or any variable) in the environment each of pids was started with; absent when unknown */
  envOf(pids: readonly number[] | "all", name: string): Map<number, string>;
  /** "redis-server *:6379", or "?" when it cannot be read */
  commandLine(pid: number): string;
  /** the command lines of several processes at once ("?" for those that cannot be read) */
  commandLines(pids: readonly number[]): Map<number, string>;
  /** a new reader of CPU and memory for a resource sampler */
  usageReader(): UsageReader;
}

export class UnsupportedPlatformError extends Error {
  override readonly name = "UnsupportedPlatformError";
}

const POSIX = new Set(["linux", "darwin", "freebsd", "openbsd", "netbsd", "sunos", "aix"]);

/** The backend for a platform and VIGIL_PROCESS_BACKEND; an error message when there is none. */
export function chooseBackend(platform: string, requested: string | undefined): BackendName | { readonly error: string } {
  if (!POSIX.has(platform)) {
    return { error: `vigil runs on Linux, macOS and the BSDs (it needs Unix process groups and signals), not on ${platform}` };
  }
  if (requested === undefined || requested === "") return platform === "linux" ? "proc" : "portable";
  if (requested === "portable") return "portable";
  if (requested === "proc") {
    return platform === "linux" ? "proc" : { error: `VIGIL_PROCESS_BACKEND=proc needs Linux /proc; on ${platform} use portable (the default)` };
  }
  return { error: `VIGIL_PROCESS_BACKEND must be proc or portable, not ${JSON.stringify(requested)}` };
}

let selected: ProcessTable | null = null;

/** The process table of this process, chosen on first use; UnsupportedPlatformError where there is none. */
export function processes(): ProcessTable {
  if (selected) return selected;
  const choice = chooseBackend(process.platform, process.env["VIGIL_PROCESS_BACKEND"]);
  if (typeof choice === "object") throw new UnsupportedPlatformError(choice.error);
  selected = choice === "proc" ? procTable() : new PsTable();
  return selected;
}

/** True when pid is alive and still the process that started at startTime (not a reused pid). */
export function isSameProcess(pid: number, startTime: number, clock: StartClock = processes().startClock): boolean {
  if (!mayExist(pid)) return false;
  const table = processes();
  const stat = table.read(pid);
  if (stat === null || !isLive(stat.state)) return false;
  // a record of the other clock cannot be compared: a live pid is taken to be it (the safe side for a lock)
  return clock !== table.startClock || stat.startTime === startTime;
}

/** False for a missing process, a zombie or a dead one. */
export function isAlive(pid: number): boolean {
  if (!mayExist(pid)) return false;
  const stat = processes().read(pid);
  return stat !== null && isLive(stat.state);
}

function isLive(state: string): boolean {
  return state !== "Z" && state !== "X" && state !== "x";
}

/** False only when no process has the pid (ESRCH): a look at the table is then spared (ps costs). */
function mayExist(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
