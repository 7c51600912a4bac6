// The connections of one server, shared fairly: a cap kept by closing the least valuable connection
// rather than refusing the newcomer, idle connections closed, and a connection that sends nothing but
// rejected input cut off. The heartbeat socket, the control socket and the HTTP API each keep one.
import type { Socket } from "node:net";
import type { ConnectionStatsDoc } from "../../control/status-document.js";
import type { Clock, TimerHandle } from "../../core/clock.js";
import { ConnectionBook } from "../../core/connection-book.js";

/** how long a connection closed after a last answer has to read it */
const END_GRACE_MS = 1_000;

/** why the pool closed a connection */
export type PoolClose = "evicted" | "idle" | "rejected";

export interface PoolOptions {
  readonly capacity: number;
  /** how long a connection may go without valid input, read at each check; null: never closed for it */
  readonly idleMs: (() => number) | null;
  /** rejected inputs in a row that close a connection; Infinity: never closed for it */
  readonly maxRejectsInARow: number;
  readonly clock: Clock;
  /** the pool closed a connection (once per connection) */
  readonly onClose?: (why: PoolClose) => void;
}

/** counters since the server started, for the status document */
export type ConnectionStats = ConnectionStatsDoc;

export class ConnectionPool {
  readonly #book: ConnectionBook<Socket>;
  readonly #counts: Record<PoolClose, number> = { evicted: 0, idle: 0, rejected: 0 };
  #sweep: TimerHandle | null = null;
  #sweepAtMs = Infinity;
  #closed = false;

  constructor(private readonly opts: PoolOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${opts.capacity}`);
    this.#book = new ConnectionBook(opts.maxRejectsInARow);
  }

  get size(): number {
    return this.#book.size;
  }

  stats(): ConnectionStats {
    return { open: this.#book.size, evicted: this.#counts.evicted, idle_closed: this.#counts.idle, reject_closed: this.#counts.rejected };
  }

  /** Takes a new connection, first closing the least valuable one when the pool is full. */
  admit(socket: Socket): void {
    if (this.#closed) return void socket.destroy();
    while (this.#book.size >= this.opts.capacity) {
      const victim = this.#book.victim();
      if (victim === undefined) break;
      this.close(victim, "evicted");
    }
    this.#book.add(socket, this.opts.clock.now());
    socket.once("close", () => this.#book.delete(socket));
    this.#armSweep();
  }

  /** valid input, or a request answered: the connection is worth keeping, and active now */
  accepted(socket: Socket): void {
    this.#book.accepted(socket, this.opts.clock.now());
    if (this.#sweep === null) this.#armSweep();
  }

  /** A request is being answered: not idle meanwhile, and the last to give way. */
  busy(socket: Socket): void {
    this.#book.busy(socket, this.opts.clock.now());
  }

  /** Rejected input; true when it was one too many in a row, and the caller should close the connection by close(). */
  rejected(socket: Socket): boolean {
    return this.#book.rejected(socket);
  }

  /** Closes a connection for `why`; with `end`, after what was written to it (a last answer) is sent. */
  close(socket: Socket, why: PoolClose, end = false): void {
    if (!this.#book.has(socket)) return;
    this.#book.delete(socket);
    this.#counts[why]++;
    this.opts.onClose?.(why);
    if (!end) return void socket.destroy();
    socket.end();
    // out of the pool, so a reader that never takes its last answer must not keep the socket either
    const timer = this.opts.clock.setTimer(END_GRACE_MS, () => socket.destroy());
    socket.once("close", () => this.opts.clock.clearTimer(timer));
  }

  /** Stops taking connections and destroys the open ones. */
  closeAll(): void {
    this.#closed = true;
    this.#disarmSweep();
    for (let s = this.#book.victim(); s !== undefined; s = this.#book.victim()) {
      this.#book.delete(s);
      s.destroy();
    }
  }

  /** one timer for the whole pool, due when the connection quiet longest would be idle */
  #armSweep(): void {
    if (this.opts.idleMs === null || this.#closed) return;
    const dueMs = this.#book.nextIdleAtMs(this.opts.idleMs());
    if (dueMs === null) return this.#disarmSweep();
    // a sweep due no later is already armed (one due earlier just finds nothing, and arms again)
    if (this.#sweep !== null && this.#sweepAtMs <= dueMs) return;
    this.#disarmSweep();
    this.#sweepAtMs = dueMs;
    this.#sweep = this.opts.clock.setTimer(Math.max(0, dueMs - this.opts.clock.now()), this.#sweepNow);
  }

  #disarmSweep(): void {
    if (this.#sweep !== null) this.opts.clock.clearTimer(this.#sweep);
    this.#sweep = null;
    this.#sweepAtMs = Infinity;
  }

  readonly #sweepNow = (): void => {
    this.#sweep = null;
    this.#sweepAtMs = Infinity;
    const idleMs = this.opts.idleMs?.() ?? Infinity;
    for (const socket of this.#book.idle(this.opts.clock.now(), idleMs)) this.close(socket, "idle");
    this.#armSweep();
  };
}
