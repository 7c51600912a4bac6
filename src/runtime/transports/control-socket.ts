import { chmod, unlink } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import type { Clock } from "../../core/clock.js";
import { MAX_REQUEST_BYTES, parseRequest, type ControlRequest, type ControlResponse } from "../../control/protocol.js";
import { ConnectionPool, type ConnectionStats } from "./connection-pool.js";
import { LineReader, TOO_LONG } from "./line-reader.js";
import { RejectLog } from "./reject-log.js";
import type { Logger } from "../outputs/logger.js";

/** A response, or a successful one whose data is JSON text already (a big status document, rendered in turns). */
export type ControlAnswer = ControlResponse | { readonly ok: true; readonly dataJson: string };
export type ControlHandler = (request: ControlRequest) => Promise<ControlAnswer>;

export interface ControlServer {
  readonly stats: () => ConnectionStats;
  /** stops accepting, lets requests in flight answer, then closes every connection */
  close(): Promise<void>;
}

export interface ControlServerOptions {
  readonly clock: Clock;
}

/** more connections than this: the least valuable one is closed to make room for the newcomer */
export const MAX_CONTROL_CONNECTIONS = 256;
/** a connection with no request in flight for this long is closed; the CLI connects for each request */
export const CONTROL_IDLE_MS = 20_000;
/** bad requests in a row after which a connection is closed */
const MAX_REJECTS_IN_A_ROW = 3;
/** an answer that leaves more than this unsent waits for the reader before the next request is read */
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * Listens on STATE_DIR/control.sock (mode 0600). Nothing a client sends can crash or stall the loop,
 * or cost more than its own connection: one request at a time per connection, the next one read only
 * once the answer is on its way to a reader that takes it (so a client that never reads its answers
 * holds one answer, not thousands), and the connections shared through a ConnectionPool.
 */
export async function startControlServer(path: string, handler: ControlHandler, logger: Logger, opts: ControlServerOptions): Promise<ControlServer> {
  // the caller holds the state dir's lock, so a socket file here is a dead supervisor's
  await unlink(path).catch(() => undefined);
  const sockets = new Set<Socket>();
  const rejects = new RejectLog(opts.clock, logger, "control socket");
  const pool = new ConnectionPool({
    capacity: MAX_CONTROL_CONNECTIONS,
    idleMs: () => CONTROL_IDLE_MS,
    maxRejectsInARow: MAX_REJECTS_IN_A_ROW,
    clock: opts.clock,
    onClose: (why) => {
      if (why === "evicted") rejects.report(why, undefined, "the socket was full: the connection worth least was closed to make room for a new one");
      if (why === "rejected") rejects.report(why, undefined, `a connection closed after ${MAX_REJECTS_IN_A_ROW} bad requests in a row`);
    },
  });
  let inFlight = 0;
  let drained: (() => void) | null = null;

  /** the answer to one line; never throws */
  const answerOf = async (socket: Socket, line: string): Promise<{ text: string; valid: boolean }> => {
    let request: ControlRequest | string;
    try {
      request = requestOf(line);
    } catch (err) {
      // a bug in reading one request must cost that request, not the supervisor
      logger.log("error", null, "control-error", `control request not understood: ${(err as Error).message}`);
      return { text: lineOf({ ok: false, error: "request not understood", code: "bad-request" }), valid: false };
    }
    if (typeof request === "string") return { text: lineOf({ ok: false, error: request, code: "bad-request" }), valid: false };
    pool.busy(socket);
    inFlight++;
    try {
      return { text: lineOf(await handler(request)), valid: true };
    } catch (err) {
      logger.log("error", null, "control-error", `control request failed: ${(err as Error).message}`);
      return { text: lineOf({ ok: false, error: (err as Error).message, code: "internal" }), valid: true };
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  };

  const serve = (socket: Socket): void => {
    sockets.add(socket);
    pool.admit(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const lines = new LineReader(MAX_REQUEST_BYTES);
    /** a request of this connection is being answered, or its answer waits for the reader */
    let busy = false;
    /** the connection was refused further requests and is ending */
    let hungUp = false;

    const hangUp = (): void => {
      hungUp = true;
      pool.close(socket, "rejected", true);
      // read and drop what else comes: unread input would reset the connection and lose the last answer
      socket.resume();
    };

    const next = async (): Promise<void> => {
      while (!socket.destroyed) {
        const raw = lines.next();
        if (raw === null) {
          // the client has said all it will: answered, it is done
          if (lines.ended) socket.end();
          else socket.resume();
          return;
        }
        if (raw === TOO_LONG) {
          const error = `request longer than ${MAX_REQUEST_BYTES} bytes`;
          socket.write(lineOf({ ok: false, error, code: "bad-request" }));
          return hangUp();
        }
        const line = raw.trim();
        if (line === "") continue;
        busy = true;
        socket.pause();
        const { text, valid } = await answerOf(socket, line);
        if (socket.destroyed) return;
        socket.write(text);
        if (!valid && pool.rejected(socket)) return hangUp();
        if (valid) pool.accepted(socket);
        if (socket.writableLength > HIGH_WATER_BYTES) await writtenOut(socket);
        busy = false;
      }
    };

    socket.on("data", (chunk: Buffer) => {
      if (hungUp) return;
      lines.push(chunk);
      if (!busy) void next();
    });
    socket.on("end", () => {
      if (hungUp) return;
      lines.end();
      if (!busy) void next();
    });
  };

  const server = createServer({ allowHalfOpen: true }, serve);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => logger.log("error", null, "control-error", `control socket: ${err.message}`));
  await chmod(path, 0o600);

  return {
    stats: () => pool.stats(),
    async close() {
      // no new connections; the open ones are ended below, idle ones too, rather than awaited
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      // let the last answers reach their readers before the sockets go
      await Promise.all(
        [...sockets].map((s) => new Promise<void>((resolve) => {
          if (s.destroyed) return resolve();
          s.once("close", () => resolve());
          s.end();
          setTimeout(() => s.destroy(), 1000).unref();
        })),
      );
      pool.closeAll();
      await closed;
      await unlink(path).catch(() => undefined);
    },
  };
}

function requestOf(line: string): ControlRequest | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return "request is not valid JSON";
  }
  return parseRequest(parsed);
}

function lineOf(answer: ControlAnswer): string {
  return "dataJson" in answer ? `{"ok":true,"data":${answer.dataJson}}\n` : `${JSON.stringify(answer)}\n`;
}

/** resolves once everything written to the socket is sent, or the socket is gone */
function writtenOut(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}
