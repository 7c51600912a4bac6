// Signals to process groups and trees; the escalation used for orphans and at shutdown.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createRequire } from "node:module";
import { descendantsIn, groupMembersIn, isAlive, isLiveState, readProcStat, scanProcesses } from "./proc.js";

export type TerminateOutcome = "exited" | "killed";

export interface TerminateOptions {
  readonly pid: number;
  readonly pgid: number;
  readonly signal: NodeJS.Signals;
  readonly timeoutMs: number;
  /** how often /proc is read while waiting; default 25 */
  readonly pollMs?: number;
  /** bound on the wait after SIGKILL; default 3000 */
  readonly killWaitMs?: number;
  /** when given, pid is only signalled if it is still the process that started then */
  readonly startTime?: number;
}

function assertTargetPid(pid: number, what: string): void {
  // -1, 0 and 1 would signal everything, our own group, or init: always a bug upstream
  if (!Number.isInteger(pid) || pid <= 1) throw new RangeError(`${what} must be an integer > 1, got ${pid}`);
}

/** process.kill(-pgid, signal); false when the group is gone (or not ours to signal). */
export function signalGroup(pgid: number, signal: NodeJS.Signals | number): boolean {
  assertTargetPid(pgid, "pgid");
  if (pgid === readProcStat(process.pid)?.pgid) throw new RangeError(`refusing to signal vigil's own process group ${pgid}`);
  return signalPid(-pgid, signal);
}

function signalPid(pid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ESRCH" || code === "EPERM") return false;
    throw err;
  }
}

let treeKill: typeof import("tree-kill") | undefined;
let psFound: boolean | undefined;
function hasPs(): boolean {
  // tree-kill spawns `ps` without an error listener: a missing ps would crash us
  psFound ??= (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, "ps"), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  return psFound;
}

/** Signals pid and all its descendants (tree-kill); errors are swallowed once the process is gone. */
export function killTree(pid: number, signal: NodeJS.Signals | number = "SIGKILL"): Promise<void> {
  assertTargetPid(pid, "pid");
  if (!hasPs()) {
    for (const child of descendantsIn(scanProcesses(), [pid]).reverse()) signalPid(child, signal);
    signalPid(pid, signal);
    return Promise.resolve();
  }
  // loaded on first use: most supervisors never kill a tree beyond its process group
  treeKill ??= createRequire(import.meta.url)("tree-kill") as typeof import("tree-kill");
  const kill = treeKill;
  return new Promise((resolve, reject) => {
    kill(pid, signal, (err) => {
      if (err && isAlive(pid)) reject(new Error(`could not signal the tree of ${pid}`, { cause: err }));
      else resolve();
    });
  });
}

/**
 * Keeps tracked (pid -> startTime) equal to what is left of the job, from one /proc scan:
 * drops the gone, adds group members and descendants. Returns the live group members.
 */
function refresh(tracked: Map<number, number>, pgid: number): Set<number> {
  const stats = scanProcesses();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  for (const [pid, startTime] of tracked) {
    const s = byPid.get(pid);
    if (!s || s.startTime !== startTime || !isLiveState(s.state)) tracked.delete(pid);
  }
  const group = new Set(groupMembersIn(stats, pgid));
  for (const pid of group) tracked.set(pid, byPid.get(pid)!.startTime);
  // descendants that left the group (setsid, setpgid) are part of the job too
  for (const pid of descendantsIn(stats, [...tracked.keys()])) tracked.set(pid, byPid.get(pid)!.startTime);
  return group;
}

function signalAll(tracked: Map<number, number>, group: Set<number>, pgid: number, signal: NodeJS.Signals): void {
  if (group.size > 0) signalGroup(pgid, signal);
  for (const pid of tracked.keys()) if (!group.has(pid)) signalPid(pid, signal);
}

async function atMost(ms: number, work: Promise<unknown>): Promise<void> {
  const timer = new AbortController();
  await Promise.race([work, sleep(ms, undefined, { signal: timer.signal }).catch(() => undefined)]);
  timer.abort();
}

/**
 * Sends signal to the group (and to descendants outside it), waits until every member and
 * descendant is gone or timeoutMs passed, then SIGKILLs the tree and the group.
 */
export async function terminateGroup(options: TerminateOptions): Promise<TerminateOutcome> {
  const { pid, pgid, signal, timeoutMs } = options;
  assertTargetPid(pid, "pid");
  assertTargetPid(pgid, "pgid");
  const pollMs = options.pollMs ?? 25;
  const tracked = new Map<number, number>();
  const leader = readProcStat(pid);
  if (leader && isLiveState(leader.state) && (options.startTime ?? leader.startTime) === leader.startTime) {
    tracked.set(pid, leader.startTime);
  }
  let group = refresh(tracked, pgid);
  if (tracked.size === 0) return "exited";

  signalAll(tracked, group, pgid, signal);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    refresh(tracked, pgid);
    if (tracked.size === 0) return "exited";
  }

  if (tracked.has(pid)) {
    // bounded: tree-kill waits on `ps`, which must not hold up a shutdown
    await atMost(1000, killTree(pid, "SIGKILL").catch(() => undefined));
  }
  const killDeadline = Date.now() + (options.killWaitMs ?? 3000);
  for (;;) {
    group = refresh(tracked, pgid);
    if (tracked.size === 0 || Date.now() >= killDeadline) return "killed";
    signalAll(tracked, group, pgid, "SIGKILL");
    await sleep(pollMs);
  }
}
