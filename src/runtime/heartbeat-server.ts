import { chmod, unlink } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "./logger.js";

export const MAX_LINE_BYTES = 64 * 1024;
const MAX_CONNECTIONS = 4096;
/** a connection that sends nothing for this long is closed; clients reconnect on their next beat */
const IDLE_TIMEOUT_MS = 10 * 60_000;
/**
 * Input taken from all connections in one turn of the event loop. libuv reads up to 32 × 64 KiB from a
 * busy socket before it moves on, so without a budget a flood of beats holds back the watchdog's own
 * timers and the control socket for seconds.
 */
const TURN_BUDGET_BYTES = 128 * 1024;
/** paused connections let go per turn; each brings back about one chunk it had read ahead */
const RESUMED_PER_TURN = 2;

export type RejectKind = "bad-json" | "bad-message" | "bad-data" | "unknown-service" | "bad-token" | "line-too-long" | "too-many-connections";

/** Decides what a line means; returns a rejection kind, or null when the message was taken. */
export type LineHandler = (message: unknown) => { kind: RejectKind; service?: string } | null;

export interface HeartbeatServer {
  readonly path: string;
  readonly connections: () => number;
  close(): Promise<void>;
}

/**
 * STATE_DIR/heartbeat.sock: newline-delimited JSON from any language. Every malformed input is
 * reported through `onReject` and never reaches further than its own connection.
 */
export async function startHeartbeatServer(
  path: string,
  handle: LineHandler,
  onReject: (kind: RejectKind, service: string | undefined) => void,
  logger: Logger,
): Promise<HeartbeatServer> {
  await unlink(path).catch(() => undefined);
  const sockets = new Set<Socket>();
  const budget = new TurnBudget();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    if (sockets.size >= MAX_CONNECTIONS) {
      onReject("too-many-connections", undefined);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.on("close", () => {
      sockets.delete(socket);
      budget.forget(socket);
    });
    socket.on("error", () => socket.destroy());
    let rest: Buffer | null = null;
    socket.on("data", (chunk: Buffer) => {
      let buf = rest ? Buffer.concat([rest, chunk]) : chunk;
      rest = null;
      let start = 0;
      let nl = buf.indexOf(10, start);
      while (nl >= 0) {
        if (nl - start > MAX_LINE_BYTES) {
          onReject("line-too-long", undefined);
          socket.destroy();
          return;
        }
        if (nl > start) takeLine(buf.toString("utf8", start, nl));
        start = nl + 1;
        nl = buf.indexOf(10, start);
      }
      if (start < buf.length) {
        buf = buf.subarray(start);
        if (buf.length > MAX_LINE_BYTES) {
          // an endless line: drop the connection rather than the memory
          onReject("line-too-long", undefined);
          socket.destroy();
          return;
        }
        rest = Buffer.from(buf);
      }
      budget.took(socket, chunk.length);
    });
  });

  const takeLine = (line: string): void => {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      onReject("bad-json", undefined);
      return;
    }
    const rejected = handle(message);
    if (rejected) onReject(rejected.kind, rejected.service);
  };

  server.maxConnections = MAX_CONNECTIONS + 64;
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
    connections: () => sockets.size,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(path).catch(() => undefined);
    },
  };
}

/** Shares the event loop among busy connections, in turns: see TURN_BUDGET_BYTES. */
class TurnBudget {
  #bytes = 0;
  #turnEndScheduled = false;
  /** paused connections, in the order they will be resumed */
  readonly #waiting = new Set<Socket>();

  /** Counts what `socket` delivered; once the turn is over budget, it waits for a later turn. */
  took(socket: Socket, bytes: number): void {
    this.#bytes += bytes;
    this.#scheduleTurnEnd();
    if (this.#bytes > TURN_BUDGET_BYTES && !socket.destroyed) {
      socket.pause();
      this.#waiting.add(socket);
    }
  }

  forget(socket: Socket): void {
    this.#waiting.delete(socket);
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
      if (resumed++ === RESUMED_PER_TURN) break;
      this.#waiting.delete(socket);
      socket.resume();
    }
    if (this.#waiting.size > 0) this.#scheduleTurnEnd();
  };
}
