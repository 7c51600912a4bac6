// The loop's timers: one per key (an instance's child and a kind), set anew by SetTimer, and reported as
// TimerFired when due. Through the injected Clock, so that tests move time themselves.
//
// A deadline heap under one clock timer, due when the earliest key is: 1,000 heartbeat watches re-arm
// about once a second each, and a clock timer, closure and key of their own per arming lived a second,
// long enough to be promoted and collected by the old generation's collector (BENCHMARKS.md, "Peers").
// Entries are kept per key and reused: the watch that fires is set again for its next deadline.
import type { Clock, TimerHandle } from "../core/clock.js";
import type { InstanceId } from "../core/stack/ids.js";
import type { TimerKey, TimerKind } from "../core/stack/effects.js";
import type { Input } from "../core/stack/inputs.js";

interface Entry {
  id: InstanceId;
  incarnation: number;
  kind: TimerKind;
  dueMs: number;
  /** order of setting: keys due at the same time fire in the order they were set */
  seq: number;
  /** index in the heap; -1 while not armed */
  at: number;
}

/** entries kept for reuse, at most */
const SPARE_ENTRIES = 4096;

export class KeyedTimers {
  /** an instance's entries (a few: heartbeat, output, stop…), found by kind and incarnation without a key text */
  readonly #byId = new Map<InstanceId, Entry[]>();
  readonly #heap: Entry[] = [];
  readonly #spare: Entry[] = [];
  #seq = 0;
  #handle: TimerHandle | null = null;
  #handleDueMs = Infinity;
  #firing = false;

  constructor(
    private readonly clock: Clock,
    private readonly post: (input: Input) => void,
  ) {}

  set(key: TimerKey, delayMs: number): void {
    const dueMs = this.clock.now() + Math.max(0, delayMs);
    let entry = this.#find(key);
    if (entry === undefined) {
      entry = this.#spare.pop() ?? { id: key.id, incarnation: 0, kind: key.kind, dueMs: 0, seq: 0, at: -1 };
      entry.id = key.id;
      entry.incarnation = key.incarnation;
      entry.kind = key.kind;
      this.#keep(entry);
    }
    entry.dueMs = dueMs;
    entry.seq = ++this.#seq;
    if (entry.at < 0) this.#push(entry);
    else this.#restore(entry.at);
    this.#arm();
  }

  cancel(key: TimerKey): void {
    const entry = this.#find(key);
    if (entry === undefined) return;
    this.#drop(entry);
    if (entry.at >= 0) this.#remove(entry.at);
    this.#recycle(entry);
    // a clock timer armed for it finds nothing due, and arms for the next
  }

  /** timers armed now */
  get size(): number {
    return this.#heap.length;
  }

  clear(): void {
    if (this.#handle !== null) this.clock.clearTimer(this.#handle);
    this.#handle = null;
    this.#handleDueMs = Infinity;
    for (const entry of this.#heap) entry.at = -1;
    this.#heap.length = 0;
    this.#byId.clear();
  }

  /** One clock timer, due with the earliest entry (none when nothing is armed). */
  #arm(): void {
    if (this.#firing) return;
    const head = this.#heap[0];
    if (head === undefined || head.dueMs >= this.#handleDueMs) return;
    if (this.#handle !== null) this.clock.clearTimer(this.#handle);
    this.#handleDueMs = head.dueMs;
    this.#handle = this.clock.setTimer(Math.max(0, head.dueMs - this.clock.now()), this.#fire);
  }

  readonly #fire = (): void => {
    // what the clock timer was armed for is due, even if the clock reads a fraction of a millisecond less
    const dueMs = Math.max(this.#handleDueMs, this.clock.now());
    // what the steps set meanwhile waits for a clock timer of its own, even when due at once: a watch
    // that looks again "after the pending input is read" must not look before the I/O has had its turn
    const setBefore = this.#seq;
    this.#handle = null;
    this.#handleDueMs = Infinity;
    this.#firing = true;
    try {
      // each TimerFired goes through the loop at once, and may set or cancel others meanwhile
      for (let head = this.#heap[0]; head !== undefined && head.dueMs <= dueMs && head.seq <= setBefore; head = this.#heap[0]) {
        this.#remove(0);
        const key: TimerKey = { id: head.id, incarnation: head.incarnation, kind: head.kind };
        this.post({ type: "TimerFired", key });
        // not set again by the step it caused (or by one queued behind it): the key is done with
        if (head.at < 0 && this.#find(key) === head) {
          this.#drop(head);
          this.#recycle(head);
        }
      }
    } finally {
      this.#firing = false;
      this.#arm();
    }
  };

  #find(key: TimerKey): Entry | undefined {
    const entries = this.#byId.get(key.id);
    if (entries === undefined) return undefined;
    for (const entry of entries) if (entry.kind === key.kind && entry.incarnation === key.incarnation) return entry;
    return undefined;
  }

  #keep(entry: Entry): void {
    const entries = this.#byId.get(entry.id);
    if (entries === undefined) this.#byId.set(entry.id, [entry]);
    else entries.push(entry);
  }

  #drop(entry: Entry): void {
    const entries = this.#byId.get(entry.id);
    if (entries === undefined) return;
    const i = entries.indexOf(entry);
    if (i < 0) return;
    entries[i] = entries[entries.length - 1]!;
    entries.pop();
    if (entries.length === 0) this.#byId.delete(entry.id);
  }

  #recycle(entry: Entry): void {
    if (this.#spare.length < SPARE_ENTRIES) this.#spare.push(entry);
  }

  // ---------------------------------------------------------------- a binary min-heap on (dueMs, seq)

  #push(entry: Entry): void {
    entry.at = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.at);
  }

  #remove(at: number): void {
    const heap = this.#heap;
    const entry = heap[at]!;
    const last = heap.pop()!;
    entry.at = -1;
    if (last === entry) return;
    heap[at] = last;
    last.at = at;
    this.#restore(at);
  }

  /** the entry at `at` has moved: up or down to its place */
  #restore(at: number): void {
    if (at > 0 && before(this.#heap[at]!, this.#heap[(at - 1) >> 1]!)) this.#up(at);
    else this.#down(at);
  }

  #up(at: number): void {
    const heap = this.#heap;
    const entry = heap[at]!;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = heap[parentAt]!;
      if (!before(entry, parent)) break;
      heap[at] = parent;
      parent.at = at;
      at = parentAt;
    }
    heap[at] = entry;
    entry.at = at;
  }

  #down(at: number): void {
    const heap = this.#heap;
    const entry = heap[at]!;
    const n = heap.length;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, entry)) break;
      heap[at] = heap[child]!;
      heap[at]!.at = at;
      at = child;
    }
    heap[at] = entry;
    entry.at = at;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
}
