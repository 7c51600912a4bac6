// One look at every process in /proc, shared by everything that asks within one turn of the event loop:
// a shutdown of 1,000 services reads the table a few times, not once per service.
import { isLiveState, scanProcesses, type ProcStat } from "./proc.js";

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

/** Hands out one snapshot per turn of the event loop; fresh() when a change in this turn matters. */
export class ProcScanner {
  #current: ProcSnapshot | null = null;

  current(): ProcSnapshot {
    if (this.#current === null) {
      this.#current = takeSnapshot();
      setImmediate(() => (this.#current = null));
    }
    return this.#current;
  }

  fresh(): ProcSnapshot {
    this.#current = null;
    return this.current();
  }
}
