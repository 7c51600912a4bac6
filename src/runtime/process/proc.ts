// Linux /proc readers. Sync reads are fine: these files are tiny and live in memory.
import { readFileSync, readdirSync } from "node:fs";
import { readSmallFile } from "./small-file.js";

export interface ProcStat {
  readonly pid: number;
  /** R, S, D, Z (zombie), X (dead), T, t, I, … */
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
  /** the session id, where the backend reads it (-1 where it does not) */
  readonly session?: number;
  /**
   * when it started, in its table's clock (table.ts, StartClock): /proc field 22, clock ticks since boot,
   * or ps's lstart, whole seconds since the epoch; with pid it names one process for good
   */
  readonly startTime: number;
}

const GONE_STATES = new Set(["Z", "X", "x"]);

export function isLiveState(state: string): boolean {
  return !GONE_STATES.has(state);
}

/** Parses the text of /proc/PID/stat; null when malformed. */
export function parseProcStat(text: string): ProcStat | null {
  // comm (field 2) may hold spaces and parens, so split at the last ')'
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 1 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state), so field N is rest[N - 3]
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgid = Number(rest[2]);
  const session = Number(rest[3]);
  const startTime = Number(rest[19]);
  if (!state || !Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isInteger(pgid)) return null;
  if (!Number.isSafeInteger(startTime)) return null;
  return { pid, state, ppid, pgid, session, startTime };
}

export function readProcStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  // latin1: only the fields after the command's name are read, and the name is not kept
  const text = readSmallFile(`/proc/${pid}/stat`);
  return text === null ? null : parseProcStat(text);
}

/**
 * The value of `name` in the environment pid was started with (/proc/PID/environ); null when it has
 * none, or when that cannot be read (gone, another user's process, out of descriptors).
 */
export function envVarOf(pid: number, name: string): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return null;
  }
  const prefix = Buffer.from(`${name}=`);
  // NUL-separated NAME=VALUE strings; the first of a name is the one getenv sees
  for (let start = 0; start < environ.length; ) {
    const end = environ.indexOf(0, start);
    const stop = end < 0 ? environ.length : end;
    if (stop - start >= prefix.length && environ.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0) {
      return environ.toString("utf8", start + prefix.length, stop);
    }
    start = stop + 1;
  }
  return null;
}

/** False for a missing process, a zombie (Z) or a dead one (X). */
export function isAlive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== null && isLiveState(stat.state);
}

/** True when pid is alive and is still the process that started at startTime (not a reused pid). */
export function isSameProcess(pid: number, startTime: number): boolean {
  const stat = readProcStat(pid);
  return stat !== null && isLiveState(stat.state) && stat.startTime === startTime;
}

/** The pid of every process in /proc, from one readdir; empty when /proc cannot be read. */
export function listPids(): number[] {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    // the entries that start with a digit are the processes
    const first = name.charCodeAt(0);
    if (first >= 48 && first <= 57) pids.push(Number(name));
  }
  return pids;
}

/** Every process in /proc, zombies included, from one readdir. */
export function scanProcesses(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    if (stat) stats.push(stat);
  }
  return stats;
}

export function groupMembersIn(stats: readonly ProcStat[], pgid: number): number[] {
  return stats.filter((s) => s.pgid === pgid && isLiveState(s.state)).map((s) => s.pid);
}

/** Live descendants of any of roots (roots themselves excluded), following ppid links. */
export function descendantsIn(stats: readonly ProcStat[], roots: Iterable<number>): number[] {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  const rootSet = new Set(roots);
  const seen = new Set<number>(rootSet);
  const queue = [...rootSet];
  const found: number[] = [];
  for (let i = 0; i < queue.length; i++) {
    for (const child of children.get(queue[i]!) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      queue.push(child.pid);
      if (isLiveState(child.state)) found.push(child.pid);
    }
  }
  return found;
}

export function processGroupMembers(pgid: number): number[] {
  return groupMembersIn(scanProcesses(), pgid);
}

export function descendants(pid: number): number[] {
  return descendantsIn(scanProcesses(), [pid]);
}
