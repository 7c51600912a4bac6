// Crash safety: every running child is recorded in STATE_DIR/children.json, so a supervisor that
// was SIGKILLed can end what it left behind when it starts again. A record is only a claim, though:
// a process is signalled only when it proves to be the child recorded, by its start time and by the
// token that spawn put in its environment.
import { unlink } from "node:fs/promises";
import { constants } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../state/atomic-file.js";
import { unreported, type WriteReport } from "../state/problems.js";
import { isLiveState, type ProcStat } from "./proc.js";
import { processes, type StartClock } from "./table.js";
import { readStateFile } from "../state/state-dir.js";
import { Cgroup, CGROUP_DIR_PREFIX, killCgroupTree, removeCgroupTree } from "./cgroup.js";
import { Job } from "./job.js";
import { takeSnapshot, type ProcSnapshot } from "./proc-snapshot.js";
import { findTokenHolders } from "./token-scan.js";

export const CHILDREN_FILE = "children.json";
/** successive rewrites of children.json start at least this far apart */
const REWRITE_INTERVAL_MS = 20;
/** after a failed rewrite (a full disk), the next try comes this much later even if nothing changes */
const RETRY_MS = 1000;
/** the variable of a child's environment that holds its spawn's token */
const TOKEN_VAR = "VIGIL_TOKEN";

export interface ChildEntry {
  readonly service: string;
  readonly pid: number;
  readonly pgid: number;
  /** start time of pid: tells our child from a process that reused its pid */
  readonly startTime: number;
  /** the clock of startTime (table.ts): absent for clock ticks since boot (/proc), as records have always been */
  readonly startClock?: StartClock;
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutMs: number;
  /** VIGIL_TOKEN of the spawn: proves, with startTime, that a process is this child (absent: not trusted) */
  readonly token?: string;
  /** the cgroup the child was moved into, where vigil could make one: everything in it is the child's */
  readonly cgroup?: string;
}

/**
 * exited/killed: ended by us; gone: nothing left; pid-reused: another process, left alone;
 * untrusted: a process that cannot prove to be the child recorded (no token, or not its token), left alone
 */
export type ReapOutcome = "exited" | "killed" | "gone" | "pid-reused" | "untrusted";

export interface ReapResult {
  readonly pid: number;
  readonly service: string;
  readonly outcome: ReapOutcome;
}

export class ChildRegistry {
  private readonly path: string;
  /** each entry with its JSON text, made once: a rewrite of 1,000 entries then costs a join */
  private readonly children = new Map<number, { readonly entry: ChildEntry; readonly json: string }>();
  private version = 0;
  private writtenVersion = 0;
  private writing: Promise<void> | null = null;
  private lastWriteAtMs = -Infinity;
  private retryTimer: NodeJS.Timeout | null = null;

  /** report hears of every rewrite's outcome: a full disk, and its end */
  constructor(
    stateDir: string,
    private readonly report: WriteReport = unreported,
  ) {
    this.path = join(stateDir, CHILDREN_FILE);
  }

  entries(): ChildEntry[] {
    return [...this.children.values()].map((c) => c.entry);
  }

  add(entry: ChildEntry): void {
    this.children.set(entry.pid, { entry, json: JSON.stringify(entry) });
    this.changed();
  }

  remove(pid: number): void {
    if (this.children.delete(pid)) this.changed();
  }

  /** Resolves once the file holds the entries as they are now; one write in flight at most. */
  flush(): Promise<void> {
    if (this.writtenVersion === this.version && !this.writing) return Promise.resolve();
    this.writing ??= this.drain().finally(() => {
      this.writing = null;
    });
    return this.writing;
  }

  /** Forgets every entry and removes the file (after a clean shutdown). */
  async clear(): Promise<void> {
    this.children.clear();
    this.version++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.writing?.catch(() => undefined);
    if (this.children.size > 0) return this.flush();
    this.writtenVersion = this.version;
    await unlink(this.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }

  private changed(): void {
    this.version++;
    this.flushInBackground();
  }

  private flushInBackground(): void {
    this.flush().catch(() => {
      // reported already; tried again soon, so that the record catches up once the disk has room
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = null;
        if (this.writtenVersion < this.version) this.flushInBackground();
      }, RETRY_MS).unref();
    });
  }

  private async drain(): Promise<void> {
    // changes made while a write is in flight are picked up by the next turn of this loop
    while (this.writtenVersion < this.version) {
      // a service restarting back to back (or a start of 1,000) changes the entries hundreds of
      // times a second: each rewrite of the whole file waits a moment after the one before
      const waitMs = this.lastWriteAtMs + REWRITE_INTERVAL_MS - performance.now();
      if (waitMs > 0) await sleep(waitMs);
      this.lastWriteAtMs = performance.now();
      const version = this.version;
      const lines = [...this.children.values()].map((c) => c.json);
      try {
        await writeFileAtomic(this.path, lines.length === 0 ? '{ "children": [] }\n' : `{ "children": [\n  ${lines.join(",\n  ")}\n] }\n`);
      } catch (err) {
        this.report.failed(err, this.path);
        throw err;
      }
      this.report.succeeded();
      this.writtenVersion = version;
    }
  }
}

function parseEntries(text: string): ChildEntry[] {
  const value = JSON.parse(text) as { children?: unknown } | unknown[];
  const list: unknown = Array.isArray(value) ? value : value?.children;
  if (!Array.isArray(list)) return [];
  const entries: ChildEntry[] = [];
  for (const e of list as Partial<Record<keyof ChildEntry, unknown>>[]) {
    const { pid, pgid, startTime, stopSignal, stopTimeoutMs, token } = e ?? {};
    if (!Number.isInteger(pid) || !Number.isInteger(pgid) || !Number.isSafeInteger(startTime)) continue;
    if ((pid as number) <= 1 || (pgid as number) <= 1) continue;
    entries.push({
      service: String(e.service),
      pid: pid as number,
      pgid: pgid as number,
      startTime: startTime as number,
      ...(e.startClock === "seconds" ? { startClock: "seconds" as const } : {}),
      // a bad signal name would make process.kill throw and block the start-up
      stopSignal: typeof stopSignal === "string" && stopSignal in constants.signals ? (stopSignal as NodeJS.Signals) : "SIGTERM",
      stopTimeoutMs: typeof stopTimeoutMs === "number" && stopTimeoutMs >= 0 ? stopTimeoutMs : 10_000,
      ...(typeof token === "string" && token !== "" ? { token } : {}),
      ...(typeof e.cgroup === "string" && isOwnCgroupPath(e.cgroup) ? { cgroup: e.cgroup } : {}),
    });
  }
  return entries;
}

/** Why the process `pid` cannot be taken for the child `entry` records, or null when it proves to be. */
function unproven(entry: ChildEntry, pid: number): string | null {
  if (entry.token === undefined) return "its record has no token to prove it is a child of vigil";
  // an environment is readable by the process's owner and root only: one that changed user proves nothing
  const table = processes();
  if (!table.readsEnvironment) return "its environment cannot be read here to find its token";
  if (table.envOf([pid], TOKEN_VAR).get(pid) !== entry.token) return "the process does not hold its token";
  return null;
}

/** how often a job being ended is looked at */
const POLL_MS = 25;
/** after SIGKILL, how long to wait for the job to be gone */
const KILL_WAIT_MS = 3_000;

/**
 * Ends the job of one recorded child: the processes holding its token (wherever they went: a daemon's
 * double fork), its group once one of them has proved the record true, and its cgroup. Stop signal and
 * SIGCONT, then SIGKILL after the stop timeout.
 */
async function reapOne(entry: ChildEntry, snap: ProcSnapshot, holders: readonly ProcStat[], log: (message: string) => void): Promise<ReapResult> {
  const { pid, pgid, service, startTime } = entry;
  // a record of the other clock (written by the other backend) is proven by its token alone
  const sameClock = (entry.startClock ?? "ticks") === processes().startClock;
  const result = (outcome: ReapOutcome): ReapResult => ({ pid, service, outcome });
  const leader = snap.byPid.get(pid);
  const leaderLive = leader !== undefined && isLiveState(leader.state);
  const cgroup = entry.cgroup === undefined ? null : new Cgroup(entry.cgroup);
  const inCgroup = cgroup?.pids().filter((p) => p !== process.pid) ?? [];
  if (pid === process.pid || pgid === snap.byPid.get(process.pid)?.pgid) return result("pid-reused");
  // the leader, or else members left in its group after it died (started after it, so not a reused group id)
  const group = [...snap.byPid.values()].filter((s) => s.pgid === pgid && isLiveState(s.state) && (!sameClock || s.startTime >= startTime));
  const proven = holders.length > 0 || inCgroup.length > 0;
  if (!proven) {
    if (leaderLive && sameClock && leader.startTime !== startTime) return result("pid-reused");
    const first = leaderLive ? leader : group[0];
    if (!first) return result("gone");
    log(`not ending pid ${first.pid} (${service} in ${CHILDREN_FILE}): ${unproven(entry, first.pid) ?? "it does not hold its token"}`);
    return result("untrusted");
  }
  log(`ending ${service} (pid ${pid}) left behind by an earlier vigil`);
  const job = new Job(entry.token ?? "", pid, cgroup);
  job.adopt(holders);
  job.adopt(group);
  job.stop(entry.stopSignal, snap);
  if (await gone(job, entry.stopTimeoutMs)) return result("exited");
  job.kill(takeSnapshot(processes().list()));
  await gone(job, KILL_WAIT_MS);
  return result("killed");
}

async function gone(job: Job, withinMs: number): Promise<boolean> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    if (job.members(takeSnapshot(processes().list())).length === 0) return true;
    if (performance.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/** A cgroup of an earlier vigil's (…/vigil-PID/INSTANCE), under the cgroup2 hierarchy. */
function isOwnCgroupPath(path: string): boolean {
  return path.startsWith("/sys/fs/cgroup/") && new RegExp(`/${CGROUP_DIR_PREFIX}\\d+/[^/]+$`).test(path) && !path.includes("/../");
}

/** The cgroup directories of supervisors that are gone: what is still in them is killed, then they are removed. */
async function clearDeadCgroups(entries: readonly ChildEntry[]): Promise<void> {
  const dirs = new Set(entries.flatMap((e) => (e.cgroup ? [e.cgroup.slice(0, e.cgroup.lastIndexOf("/"))] : [])));
  for (const dir of dirs) {
    const owner = Number(/vigil-(\d+)$/.exec(dir)?.[1]);
    if (owner === process.pid || processes().read(owner) !== null) continue;
    const deadline = performance.now() + KILL_WAIT_MS;
    while (killCgroupTree(dir) > 0 && performance.now() < deadline) await sleep(POLL_MS);
    removeCgroupTree(dir);
  }
}

/**
 * At start-up: ends the children a killed supervisor left behind, then removes the record. The record
 * must be the running user's own file (StateDirError otherwise), and only processes that prove to be
 * the children it names are signalled.
 */
export async function reapOrphans(
  stateDir: string,
  log: (message: string) => void = () => undefined,
): Promise<ReapResult[]> {
  const path = join(stateDir, CHILDREN_FILE);
  let text: string;
  try {
    text = await readStateFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  let entries: ChildEntry[] = [];
  try {
    entries = parseEntries(text);
  } catch (err) {
    log(`ignoring unreadable ${path}: ${(err as Error).message}`);
  }
  const table = processes();
  const byToken = new Map(entries.flatMap((e) => (e.token === undefined ? [] : [[e.token, e] as const])));
  const holders = findTokenHolders(table, () => takeSnapshot(table.list()), byToken);
  // the list the token search took (ps), or a new one (/proc)
  const snap = takeSnapshot(table.list(false));
  const results = await Promise.all(entries.map((entry) => reapOne(entry, snap, holders.get(entry) ?? [], log)));
  await clearDeadCgroups(entries);
  await unlink(path).catch(() => undefined);
  return results;
}
