// One look at every process, shared by everything that asks within one turn of the event loop: a
// shutdown of 1,000 services reads the process table a few times, not once per service. The tree and
// pid snapshots below read Linux /proc; the process table (table.ts) offers them where it can.
import { readdirSync, readFileSync } from "node:fs";
import { isLiveState, readProcStat, scanProcesses, type ProcStat } from "./proc.js";
import type { ProcessTable } from "./table.js";

export interface ProcSnapshot {
  readonly byPid: ReadonlyMap<number, ProcStat>;
  /** live and zombie children of each pid */
  readonly children: ReadonlyMap<number, readonly ProcStat[]>;
}

export function takeSnapshot(stats: readonly ProcStat[] = scanProcesses()): ProcSnapshot {
  const byPid = new Map<number, ProcStat>();
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) {
    byPid.set(s.pid, s);
    const siblings = children.get(s.ppid);
    if (siblings) siblings.push(s);
    else children.set(s.ppid, [s]);
  }
  return { byPid, children };
}

/** Live descendants of the roots (roots excluded), following ppid links. */
export function liveDescendants(snap: ProcSnapshot, roots: Iterable<number>): ProcStat[] {
  const queue = [...roots];
  const seen = new Set(queue);
  const found: ProcStat[] = [];
  for (let i = 0; i < queue.length; i++) {
    for (const child of snap.children.get(queue[i]!) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      queue.push(child.pid);
      if (isLiveState(child.state)) found.push(child);
    }
  }
  return found;
}

/**
 * The roots and their descendants only, found through /proc/PID/task/TID/children: what a stop needs, at
 * the cost of the job's size instead of the whole machine's (a full scan of 1,000 processes takes tens of
 * milliseconds, and a watchdog that stops many children would fall behind its deadlines). Null when the
 * kernel has no children files (CONFIG_PROC_CHILDREN); the caller then scans everything.
 */
export function treeSnapshot(roots: Iterable<number>): ProcSnapshot | null {
  if (!HAS_CHILDREN_FILES) return null;
  const byPid = new Map<number, ProcStat>();
  const children = new Map<number, ProcStat[]>();
  const queue: number[] = [];
  for (const pid of roots) if (!byPid.has(pid)) visit(pid);
  for (let i = 0; i < queue.length; i++) {
    const parent = queue[i]!;
    for (const pid of childrenOf(parent)) {
      if (byPid.has(pid)) continue;
      const child = visit(pid);
      if (child === null || child.ppid !== parent) continue;
      const siblings = children.get(parent);
      if (siblings) siblings.push(child);
      else children.set(parent, [child]);
    }
  }
  return { byPid, children };

  function visit(pid: number): ProcStat | null {
    const stat = readProcStat(pid);
    if (stat === null) return null;
    byPid.set(pid, stat);
    queue.push(pid);
    return stat;
  }
}

/** The given processes alone, each read once (a cgroup's members: nothing of theirs is outside it). */
export function pidsSnapshot(pids: Iterable<number>): ProcSnapshot {
  const byPid = new Map<number, ProcStat>();
  for (const pid of pids) {
    if (byPid.has(pid)) continue;
    const stat = readProcStat(pid);
    if (stat !== null) byPid.set(pid, stat);
  }
  return { byPid, children: new Map() };
}

/** Pids of the children of every thread of pid (a child belongs to the thread that forked it). */
function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, "latin1");
    } catch {
      continue;
    }
    for (const word of text.split(" ")) if (word !== "") found.push(Number(word));
  }
  return found;
}

const HAS_CHILDREN_FILES = (() => {
  try {
    readFileSync(`/proc/${process.pid}/task/${process.pid}/children`);
    return true;
  } catch {
    return false;
  }
})();

/** Hands out one snapshot per turn of the event loop; fresh() when a change in this turn matters. */
export class ProcScanner {
  #current: ProcSnapshot | null = null;

  constructor(readonly table: ProcessTable) {}

  current(): ProcSnapshot {
    return this.#current ?? this.#take(false);
  }

  /** The roots' trees alone when the table can say them (treeSnapshot), else the whole table. */
  tree(roots: Iterable<number>): ProcSnapshot {
    return this.table.tree(roots) ?? this.current();
  }

  fresh(): ProcSnapshot {
    return this.#take(true);
  }

  #take(fresh: boolean): ProcSnapshot {
    if (this.#current === null) setImmediate(() => (this.#current = null));
    this.#current = takeSnapshot(this.table.list(fresh));
    return this.#current;
  }
}
