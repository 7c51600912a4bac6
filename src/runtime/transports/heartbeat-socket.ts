import { chmod, unlink } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import type { Clock } from "../../core/clock.js";
import { ConnectionPool, type ConnectionStats } from "./connection-pool.js";
import { LineReader, TOO_LONG } from "./line-reader.js";
import { readIntoShared, sharedReadBuffer } from "./shared-read.js";
import type { Logger } from "../outputs/logger.js";

export const MAX_LINE_BYTES = 64 * 1024;
/** more connections than this: the least valuable one is closed to make room for the newcomer */
export const MAX_CONNECTIONS = 4096;
/** rejected lines in a row after which a connection is closed */
const MAX_REJECTS_IN_A_ROW = 3;
/** the least time a connection may go without a valid message before it is closed */
const IDLE_FLOOR_MS = 60_000;
/**
 * Input taken from all connections in one turn of the event loop. libuv reads up to 32 × 64 KiB from a
 * busy socket before it moves on, so without a budget a flood of beats holds back the watchdog's own
 * timers and the control socket for seconds.
 */
const TURN_BUDGET_BYTES = 128 * 1024;
/** paused connections let go per turn; each brings back about one chunk it had read ahead */
const RESUMED_PER_TURN = 2;

import type { RejectKind } from "../../core/heartbeat-message.js";
export type { RejectKind };

/** Takes a parsed line: "refused" when it was not taken (the handler has counted the refusal itself). */
export type LineHandler = (message: unknown) => "taken" | "refused";

export interface HeartbeatServerOptions {
  readonly clock: Clock;
  /** how long a connection may go without a valid message, read when it is checked (heartbeatIdleMs) */
  readonly idleMs: () => number;
}

export interface HeartbeatServer {
  readonly path: string;
  readonly connections: () => number;
  readonly stats: () => ConnectionStats;
  close(): Promise<void>;
}

/**
 * A connection may stay quiet for twice the longest heartbeat interval, and at least a minute: a client
 * that keeps its connection beats every half interval, and one closed reconnects on its next beat.
 */
export function heartbeatIdleMs(intervalsMs: Iterable<number>): number {
  let longest = 0;
  for (const ms of intervalsMs) longest = Math.max(longest, ms);
  return Math.max(IDLE_FLOOR_MS, 2 * longest);
}

/**
 * STATE_DIR/heartbeat.sock: newline-delimited JSON from any language. Every malformed input is
 * reported through `onReject` and never reaches further than its own connection; the connections
 * share the socket through a ConnectionPool, so that no crowd of them locks a beating child out.
 */
export async function startHeartbeatServer(
  path: string,
  handle: LineHandler,
  onReject: (kind: RejectKind, service: string | undefined) => void,
  logger: Logger,
  opts: HeartbeatServerOptions,
): Promise<HeartbeatServer> {
  await unlink(path).catch(() => undefined);
  const budget = new TurnBudget();
  const pool = new ConnectionPool({
    capacity: MAX_CONNECTIONS,
    idleMs: opts.idleMs,
    maxRejectsInARow: MAX_REJECTS_IN_A_ROW,
    clock: opts.clock,
    onClose: (why) => {
      if (why === "evicted") onReject("evicted", undefined);
    },
  });
  // every connection is read into this one buffer (shared-read.ts); what a read leaves of a line is copied
  const shared = sharedReadBuffer();
  const server: Server = createServer({ noDelay: true, pauseOnConnect: true }, (accepted) => {
    const lines = new LineReader(MAX_LINE_BYTES);
    let socket: Socket;
    const takeLines = (): void => {
      for (let line = lines.next(); line !== null; line = lines.next()) {
        // an endless line: drop the connection rather than the memory
        if (line === TOO_LONG) {
          tooLong(socket);
          break;
        }
        if (line !== "") takeLine(socket, line);
        // the line closed the connection (too many rejected in a row): the rest is not read
        if (socket.destroyed) break;
      }
    };
    const take = (n: number, bytes: Buffer): void => {
      lines.push(n === bytes.length ? bytes : bytes.subarray(0, n));
      takeLines();
      lines.retain(shared.buffer);
      if (!socket.destroyed) budget.took(socket, n);
    };
    const direct = readIntoShared(accepted, shared, take);
    if (direct !== null) socket = direct;
    else {
      socket = accepted;
      socket.on("data", (chunk: Buffer) => take(chunk.length, chunk));
      socket.resume();
    }
    pool.admit(socket);
    // the writer is done (printf | nc -U, a script that sends and closes): a last line without its
    // newline is still a message
    socket.on("end", () => {
      lines.end();
      takeLines();
    });
    socket.on("close", () => budget.forget(socket));
    socket.on("error", () => socket.destroy());
  });

  const tooLong = (socket: Socket): void => {
    onReject("line-too-long", undefined);
    pool.close(socket, "rejected");
  };

  const takeLine = (socket: Socket, line: string): void => {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return rejected(socket, "bad-json", undefined);
    }
    if (handle(message) === "taken") pool.accepted(socket);
    // a connection that sends only refused lines is closed
    else if (pool.rejected(socket)) pool.close(socket, "rejected");
  };

  const rejected = (socket: Socket, kind: RejectKind, service: string | undefined): void => {
    onReject(kind, service);
    if (pool.rejected(socket)) pool.close(socket, "rejected");
  };

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => logger.log("error", null, "heartbeat-socket", `heartbeat socket: ${err.message}`));
  await chmod(path, 0o600);
  return {
    path,
    connections: () => pool.size,
    stats: () => pool.stats(),
    async close() {
      pool.closeAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(path).catch(() => undefined);
    },
  };
}

/**
 * Shares the event loop among busy connections, in turns: see TURN_BUDGET_BYTES. The count is cleared at
 * the end of a turn only once it has reached a quarter of the budget: a beat of 60 bytes, alone in its
 * turn, schedules nothing (a setImmediate per beat was one more poll of the event loop per beat, a third
 * of the loop's system calls with 1,000 services beating). What earlier turns left in the count, under a
 * quarter of the budget, is taken from this turn's.
 */
export class TurnBudget {
  #bytes = 0;
  #turnEndScheduled = false;
  /** paused connections, in the order they will be resumed */
  readonly #waiting = new Set<Pausable>();

  constructor(
    private readonly budgetBytes = TURN_BUDGET_BYTES,
    private readonly resumedPerTurn = RESUMED_PER_TURN,
  ) {}

  /** Counts what `socket` delivered; once the turn is over budget, it waits for a later turn. */
  took(socket: Pausable, bytes: number): void {
    this.#bytes += bytes;
    if (this.#bytes < this.budgetBytes / 4) return;
    this.#scheduleTurnEnd();
    if (this.#bytes > this.budgetBytes && !socket.destroyed) {
      socket.pause();
      this.#waiting.add(socket);
    }
  }

  forget(socket: Pausable): void {
    this.#waiting.delete(socket);
  }

  /** connections waiting for a later turn */
  get waiting(): number {
    return this.#waiting.size;
  }

  #scheduleTurnEnd(): void {
    if (this.#turnEndScheduled) return;
    this.#turnEndScheduled = true;
    setImmediate(this.#endTurn);
  }

  readonly #endTurn = (): void => {
    this.#turnEndScheduled = false;
    this.#bytes = 0;
    let resumed = 0;
    for (const socket of this.#waiting) {
      if (resumed++ === this.resumedPerTurn) break;
      this.#waiting.delete(socket);
      socket.resume();
    }
    if (this.#waiting.size > 0) this.#scheduleTurnEnd();
  };
}

/** what the budget needs of a connection */
export interface Pausable {
  readonly destroyed: boolean;
  pause(): unknown;
  resume(): unknown;
}
