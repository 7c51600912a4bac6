// Who gives way when a server is full, and who has been quiet too long. A Unix socket says nothing of
// who is at the other end, so a connection is judged by what it has done: one that never sent anything
// valid is worth least, then the one quiet longest; one with a request in flight is worth most. A full
// server makes room by closing the least valuable connection, never by refusing the newcomer, so that
// one client's crowd of connections costs that client. Time is passed in.

/** unproven: nothing valid yet; proven: sent something valid; busy: a request of it is being answered */
export type Standing = "unproven" | "proven" | "busy";

interface Entry {
  standing: Standing;
  /** the last valid input, or the connection's start before any */
  lastActiveMs: number;
  /**
   * where the entry stands in its tier's order: lastActiveMs when it was last put at the end. A proven
   * connection's valid input only sets lastActiveMs (a beat a second of 1,000 connections was a delete
   * and a set a beat, and the map's rehashing); the order catches up where it is read, in victim(),
   * idle() and nextIdleAtMs(), by moving to the end each entry found active since it was placed. An
   * entry moved there late may stand behind one placed meanwhile that is quieter than itself by less
   * than the time between the two: who gives way is then nearly, not exactly, the quietest. idle() still
   * names only connections quiet for idleMs by their own last input.
   */
  placedMs: number;
  rejectsInARow: number;
}

export class ConnectionBook<K> {
  // one map per standing, in insertion order: the first entry is the one quiet longest, and a touch is
  // a delete and a set, so that every operation here is O(1) but the sweep of the expired ones
  readonly #tiers: Readonly<Record<Standing, Map<K, Entry>>> = { unproven: new Map(), proven: new Map(), busy: new Map() };
  readonly #entries = new Map<K, Entry>();

  /** maxRejectsInARow: rejected inputs without a valid one between them that close a connection */
  constructor(private readonly maxRejectsInARow: number) {
    if (!(maxRejectsInARow >= 1)) throw new RangeError(`maxRejectsInARow must be at least 1, got ${maxRejectsInARow}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  standing(key: K): Standing | undefined {
    return this.#entries.get(key)?.standing;
  }

  add(key: K, nowMs: number): void {
    if (this.#entries.has(key)) return;
    const entry: Entry = { standing: "unproven", lastActiveMs: nowMs, placedMs: nowMs, rejectsInARow: 0 };
    this.#entries.set(key, entry);
    this.#tiers.unproven.set(key, entry);
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#tiers[entry.standing].delete(key);
  }

  /** A valid message or an answered request: the connection has proven itself, and is active now. */
  accepted(key: K, nowMs: number): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    entry.rejectsInARow = 0;
    if (entry.standing === "proven") entry.lastActiveMs = Math.max(entry.lastActiveMs, nowMs);
    else this.#move(key, entry, "proven", nowMs);
  }

  /** Rejected input, which does not count as activity; true when the connection has had enough of them in a row. */
  rejected(key: K): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    entry.rejectsInARow++;
    return entry.rejectsInARow >= this.maxRejectsInARow;
  }

  /** A request of the connection is being answered: it is neither idle nor the first to give way. */
  busy(key: K, nowMs: number): void {
    const entry = this.#entries.get(key);
    if (entry) this.#move(key, entry, "busy", nowMs);
  }

  /**
   * The connection to close to make room for a new one: the unproven one quiet longest, else the proven
   * one quiet longest, else the one busy longest.
   */
  victim(): K | undefined {
    for (const standing of ["unproven", "proven", "busy"] as const) {
      const first = this.#first(standing);
      if (first !== undefined) return first[0];
    }
    return undefined;
  }

  /** Connections not busy that have had no valid input for idleMs or more at nowMs, quietest first. */
  idle(nowMs: number, idleMs: number): K[] {
    const out: K[] = [];
    for (const standing of ["unproven", "proven"] as const) {
      for (const [key, entry] of this.#tiers[standing]) {
        if (nowMs - entry.placedMs < idleMs) break;
        // active since it was placed, and not idle after all: to the end, where it now belongs (the
        // iteration meets it again there and stops at it)
        if (nowMs - entry.lastActiveMs < idleMs) this.#place(key, entry);
        else out.push(key);
      }
    }
    return out;
  }

  /** When the next connection not busy will have been quiet for idleMs; null when there is none. */
  nextIdleAtMs(idleMs: number): number | null {
    let first: number | null = null;
    for (const standing of ["unproven", "proven"] as const) {
      const entry = this.#first(standing)?.[1];
      if (entry !== undefined && (first === null || entry.lastActiveMs < first)) first = entry.lastActiveMs;
    }
    return first === null ? null : first + idleMs;
  }

  /** the tier's entry quiet longest, after moving to the end those found active since they were placed */
  #first(standing: Standing): [K, Entry] | undefined {
    const tier = this.#tiers[standing];
    for (const [key, entry] of tier) {
      if (entry.lastActiveMs === entry.placedMs) return [key, entry];
      this.#place(key, entry);
    }
    return undefined;
  }

  #place(key: K, entry: Entry): void {
    const tier = this.#tiers[entry.standing];
    tier.delete(key);
    entry.placedMs = entry.lastActiveMs;
    tier.set(key, entry);
  }

  #move(key: K, entry: Entry, to: Standing, nowMs: number): void {
    this.#tiers[entry.standing].delete(key);
    entry.standing = to;
    entry.lastActiveMs = nowMs;
    entry.placedMs = nowMs;
    this.#tiers[to].set(key, entry);
  }
}
