import { chmod, unlink } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { MAX_REQUEST_BYTES, parseRequest, type ControlRequest, type ControlResponse } from "../control/protocol.js";
import type { Logger } from "./logger.js";

/** A response, or a successful one whose data is JSON text already (a big status document, rendered in turns). */
export type ControlAnswer = ControlResponse | { readonly ok: true; readonly dataJson: string };
export type ControlHandler = (request: ControlRequest) => Promise<ControlAnswer>;

export interface ControlServer {
  /** stops accepting, lets requests in flight answer, then closes every connection */
  close(): Promise<void>;
}

const IDLE_TIMEOUT_MS = 60_000;
const MAX_CONNECTIONS = 256;

/** Listens on STATE_DIR/control.sock (mode 0600). Nothing a client sends can crash or stall the loop. */
export async function startControlServer(path: string, handler: ControlHandler, logger: Logger): Promise<ControlServer> {
  // the caller holds the state dir's lock, so a socket file here is a dead supervisor's
  await unlink(path).catch(() => undefined);
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let drained: (() => void) | null = null;

  const answer = async (socket: Socket, line: string): Promise<void> => {
    let response: ControlAnswer;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    const request = parsed === undefined ? "request is not valid JSON" : parseRequest(parsed);
    if (typeof request === "string") {
      response = { ok: false, error: request, code: "bad-request" };
    } else {
      inFlight++;
      try {
        response = await handler(request);
      } catch (err) {
        logger.log("error", null, "control-error", `control request failed: ${(err as Error).message}`);
        response = { ok: false, error: (err as Error).message, code: "internal" };
      } finally {
        inFlight--;
        if (inFlight === 0) drained?.();
      }
    }
    if (socket.destroyed) return;
    socket.write("dataJson" in response ? `{"ok":true,"data":${response.dataJson}}\n` : `${JSON.stringify(response)}\n`);
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffered = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES && !buffered.includes("\n")) {
        const response: ControlResponse = { ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes`, code: "bad-request" };
        socket.end(`${JSON.stringify(response)}\n`);
        buffered = "";
        return;
      }
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) void answer(socket, line);
        nl = buffered.indexOf("\n");
      }
    });
  });
  server.maxConnections = MAX_CONNECTIONS;
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
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
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
      await unlink(path).catch(() => undefined);
    },
  };
}
