// CPU and memory of every service's process tree, from one sweep of the process table (/proc on Linux,
// one ps elsewhere: process/table.ts), with the last samples kept. On Linux it reads /proc itself rather
// than through pidusage: for 1,000 children a pidusage batch alone costs about as much supervisor CPU as
// the whole budget of a sweep (see BENCHMARKS.md, "Resources").
import { performance } from "node:perf_hooks";
import type { ProcUsage } from "./proc-table.js";
import { processes, type UsageReader } from "../process/table.js";
import { SampleRing } from "./sample-ring.js";
import { TimeSlice } from "../time-slice.js";

export interface ServiceSample {
  /** monotonic milliseconds */
  readonly atMs: number;
  /** percent of one core over the whole tree since the previous sweep; null on the first sample of a pid */
  readonly cpuPercent: number | null;
  /** resident memory of the whole tree */
  readonly rssBytes: number;
  /** the main pid alone */
  readonly ownCpuPercent: number | null;
  readonly ownRssBytes: number;
  /** live processes in the tree, the main one included */
  readonly processes: number;
}

/** one point of a service's history: the figures the status document's series shows */
export type ResourcePoint = Pick<ServiceSample, "atMs" | "cpuPercent" | "rssBytes">;

export interface ResourceSamplerOptions {
  /** monotonic milliseconds; performance.now by default */
  readonly now?: () => number;
  /** samples kept per service for charts */
  readonly historySize?: number;
  /** every process; a test may hand in its own table */
  readonly readTable?: () => readonly ProcUsage[] | Promise<readonly ProcUsage[]>;
  /** units of cpuTicks in a second: the reader's (USER_HZ, 100 on Linux) by default */
  readonly ticksPerSecond?: number;
  readonly pageBytes?: number;
  /** false while file descriptors are scarce: /proc handles are then not kept between sweeps */
  readonly holdHandles?: () => boolean;
  /** where the table is read from: the process table's reader by default */
  readonly reader?: UsageReader;
  /** the pid whose unreaped children count as such (unreaped): this process by default */
  readonly selfPid?: number;
}

/** What the previous sweep saw of one tree, to turn cumulative ticks into a rate; updated in place. */
interface TreeMark {
  rootPid: number;
  rootStartTime: number;
  atMs: number;
  ownTicks: number;
  /** pid, startTime, utime+stime+cutime+cstime of every member, zombies included, flat */
  members: number[];
}

const ZOMBIE = new Set(["Z", "X"]);
/** longest stretch of a sweep before the event loop gets a turn */
const TURN_MS = 1;

export class ResourceSampler {
  readonly #now: () => number;
  readonly #historySize: number;
  readonly #table: UsageReader;
  readonly #readTable: () => readonly ProcUsage[] | Promise<readonly ProcUsage[]>;
  readonly #msPerTick: number;
  readonly #pageBytes: number;
  readonly #marks = new Map<string, TreeMark>();
  readonly #history = new Map<string, SampleRing>();
  readonly #holdHandles: () => boolean;
  /** services forgotten while a sweep was between turns: that sweep must not bring them back */
  #forgottenMidSweep: Set<string> | null = null;
  readonly #selfPid: number;
  /**
   * Children of this process the last sweep found exited but not reaped (a service's main process, a
   * probe's command, a `ps`): zombies Node has not heard of, their SIGCHLD lost (process/reap-nudge.ts).
   */
  unreaped: number[] = [];

  constructor(options: ResourceSamplerOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#historySize = options.historySize ?? 60;
    this.#table = options.reader ?? processes().usageReader();
    this.#readTable = options.readTable ?? (() => this.#table.scan(TURN_MS));
    this.#msPerTick = 1000 / (options.ticksPerSecond ?? this.#table.ticksPerSecond);
    this.#pageBytes = options.pageBytes ?? this.#table.pageBytes;
    this.#holdHandles = options.holdHandles ?? (() => true);
    this.#selfPid = options.selfPid ?? process.pid;
  }

  /**
   * One sweep. A service whose main pid is gone (or a zombie) is left out of the result. `onTree` sees
   * each service's process tree as found (its members belong to the service's job).
   */
  async sample(pids: ReadonlyMap<string, number>, onTree?: (service: string, tree: readonly ProcUsage[]) => void): Promise<Map<string, ServiceSample>> {
    const forgotten = new Set<string>();
    this.#forgottenMidSweep = forgotten;
    try {
      return await this.#sweep(pids, onTree);
    } finally {
      this.#forgottenMidSweep = null;
      for (const service of forgotten) this.forget(service);
    }
  }

  async #sweep(pids: ReadonlyMap<string, number>, onTree?: (service: string, tree: readonly ProcUsage[]) => void): Promise<Map<string, ServiceSample>> {
    const table = await this.#readTable();
    const atMs = this.#now();
    const byPid = new Map<number, ProcUsage>();
    const children = new Map<number, ProcUsage[]>();
    const unreaped: number[] = [];
    for (const p of table) {
      byPid.set(p.pid, p);
      if (p.ppid === this.#selfPid && p.state === "Z") unreaped.push(p.pid);
      const siblings = children.get(p.ppid);
      if (siblings) siblings.push(p);
      else children.set(p.ppid, [p]);
    }
    const samples = new Map<string, ServiceSample>();
    // every member of every tree → its service
    const owners = new Map<number, string>();
    const slice = new TimeSlice(TURN_MS);
    for (const [service, pid] of pids) {
      if (slice.over) await slice.next();
      const root = byPid.get(pid);
      if (!root || ZOMBIE.has(root.state)) {
        this.#marks.delete(service);
        continue;
      }
      const tree = treeOf(root, children);
      onTree?.(service, tree);
      for (const member of tree) owners.set(member.pid, service);
      const sample = this.#measure(service, root, tree, byPid, owners, atMs);
      samples.set(service, sample);
      this.#remember(service, sample);
    }
    for (const service of this.#marks.keys()) {
      if (!pids.has(service)) this.#marks.delete(service);
    }
    if (this.#holdHandles()) this.#table.watch(owners);
    else this.#table.close();
    this.unreaped = unreaped;
    return samples;
  }

  /** history(service) as the status document's JSON series (SampleRing.historyJson); "[]" for none */
  historyJson(service: string, isoOf: (atMs: number) => string): string {
    return this.#history.get(service)?.historyJson(isoOf) ?? "[]";
  }

  /** Oldest first, at most historySize; a copy. */
  history(service: string): ResourcePoint[] {
    return this.#history.get(service)?.toArray() ?? [];
  }

  forget(service: string): void {
    this.#forgottenMidSweep?.add(service);
    this.#history.delete(service);
    this.#marks.delete(service);
  }

  /** Releases the held /proc descriptors; the sampler still works, opening them again. */
  close(): void {
    this.#table.close();
  }

  #measure(
    service: string,
    root: ProcUsage,
    tree: readonly ProcUsage[],
    byPid: ReadonlyMap<number, ProcUsage>,
    owners: ReadonlyMap<number, string>,
    atMs: number,
  ): ServiceSample {
    let rssPages = 0;
    let processes = 0;
    let treeTicks = 0;
    for (const p of tree) {
      treeTicks += p.cpuTicks + p.reapedCpuTicks;
      if (ZOMBIE.has(p.state)) continue;
      rssPages += p.rssPages;
      processes++;
    }
    let mark = this.#marks.get(service);
    let cpuPercent: number | null = null;
    let ownCpuPercent: number | null = null;
    if (mark && mark.rootPid === root.pid && mark.rootStartTime === root.startTime && atMs > mark.atMs) {
      const base = baselineTicks(service, mark.members, byPid, owners);
      cpuPercent = this.#percent(Math.max(0, treeTicks - base), atMs - mark.atMs);
      ownCpuPercent = this.#percent(Math.max(0, root.cpuTicks - mark.ownTicks), atMs - mark.atMs);
    }
    if (!mark) this.#marks.set(service, (mark = { rootPid: 0, rootStartTime: 0, atMs: 0, ownTicks: 0, members: [] }));
    mark.rootPid = root.pid;
    mark.rootStartTime = root.startTime;
    mark.atMs = atMs;
    mark.ownTicks = root.cpuTicks;
    mark.members.length = 0;
    for (const p of tree) mark.members.push(p.pid, p.startTime, p.cpuTicks + p.reapedCpuTicks);
    return {
      atMs,
      cpuPercent,
      rssBytes: rssPages * this.#pageBytes,
      ownCpuPercent,
      ownRssBytes: root.rssPages * this.#pageBytes,
      processes,
    };
  }

  #percent(ticks: number, elapsedMs: number): number {
    return Math.round(((ticks * this.#msPerTick) / elapsedMs) * 1000) / 10;
  }

  #remember(service: string, sample: ServiceSample): void {
    let ring = this.#history.get(service);
    if (!ring) this.#history.set(service, (ring = new SampleRing(this.#historySize)));
    ring.push(sample);
  }
}

/** The root and its descendants, zombies included (their ticks move to the parent when reaped). */
function treeOf(root: ProcUsage, children: ReadonlyMap<number, readonly ProcUsage[]>): ProcUsage[] {
  const tree = [root];
  const seen = new Set([root.pid]);
  for (let i = 0; i < tree.length; i++) {
    for (const child of children.get(tree[i]!.pid) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      tree.push(child);
    }
  }
  return tree;
}

/**
 * The tree's ticks at the previous sweep, counting only what can show up again now: members still in
 * the tree, and members gone from /proc (reaped, so their ticks are now in a parent's cutime/cstime).
 * A member that left the tree alive (its parent died and init adopted it) takes its ticks with it.
 * A new member started since then, so all its ticks are new.
 */
function baselineTicks(
  service: string,
  previous: readonly number[],
  byPid: ReadonlyMap<number, ProcUsage>,
  owners: ReadonlyMap<number, string>,
): number {
  let base = 0;
  for (let i = 0; i < previous.length; i += 3) {
    const pid = previous[i]!;
    const now = byPid.get(pid);
    const leftAlive = now !== undefined && now.startTime === previous[i + 1] && owners.get(pid) !== service;
    if (!leftAlive) base += previous[i + 2]!;
  }
  return base;
}
