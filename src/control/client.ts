import { createConnection } from "node:net";
import { join } from "node:path";
import type { ControlRequest, ControlResponse } from "./protocol.js";

export class NoSupervisorError extends Error {
  constructor(readonly stateDir: string, options?: ErrorOptions) {
    super(`no supervisor is running for this stack (nothing answers at ${join(stateDir, "control.sock")})`, options);
  }
}

export class ControlError extends Error {
  constructor(message: string, readonly code: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export function controlSocketPath(stateDir: string): string {
  return join(stateDir, "control.sock");
}

/**
 * Sends one request to the supervisor of `stateDir` and waits for its answer. A missing socket, or one
 * left by a dead supervisor (nobody listening), is a NoSupervisorError at once, never a hang.
 */
export async function request(stateDir: string, req: ControlRequest, timeoutMs = 10_000): Promise<unknown> {
  return dataOf(parseAnswer((await exchange(stateDir, req, timeoutMs)).toString("utf8")));
}

const DATA_PREFIX = Buffer.from('{"ok":true,"data":');
const CLOSE_BRACE = 0x7d;

/**
 * request(), with the answer's data as the JSON text the supervisor wrote, not parsed: a status
 * document of 1,000 services with its history is a megabyte that a script reads anyway, and parsing
 * it here only to print it again cost more than the request.
 */
export async function requestText(stateDir: string, req: ControlRequest, timeoutMs = 10_000): Promise<Buffer> {
  const line = await exchange(stateDir, req, timeoutMs);
  if (line.subarray(0, DATA_PREFIX.length).equals(DATA_PREFIX) && line.at(-1) === CLOSE_BRACE) {
    return line.subarray(DATA_PREFIX.length, -1);
  }
  return Buffer.from(JSON.stringify(dataOf(parseAnswer(line.toString("utf8"))) ?? null));
}

function parseAnswer(line: string): ControlResponse {
  try {
    return JSON.parse(line) as ControlResponse;
  } catch (err) {
    throw new ControlError("the supervisor sent an answer that is not JSON", "bad-response", { cause: err });
  }
}

function dataOf(response: ControlResponse): unknown {
  if (!response.ok) throw new ControlError(response.error, response.code);
  return response.data;
}

const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);

/** one request line out, the first answer line back (its bytes, without the newline) */
function exchange(stateDir: string, req: ControlRequest, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(controlSocketPath(stateDir));
    const buffered: Buffer[] = [];
    let settled = false;
    const finish = (err: Error | null, line = EMPTY): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(line);
    };
    const timer = setTimeout(() => finish(new ControlError(`the supervisor did not answer within ${timeoutMs} ms`, "timeout")), timeoutMs);
    socket.on("connect", () => socket.write(`${JSON.stringify(req)}\n`));
    socket.on("data", (chunk: Buffer) => {
      // a status document of 1,000 services comes in dozens of chunks: look for the end in the new one only
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        buffered.push(chunk);
        return;
      }
      buffered.push(chunk.subarray(0, nl));
      finish(null, Buffer.concat(buffered));
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ECONNREFUSED" || err.code === "ENOTSOCK") {
        finish(new NoSupervisorError(stateDir, { cause: err }));
      } else {
        finish(new ControlError(`cannot reach the supervisor: ${err.message}`, err.code ?? "io", { cause: err }));
      }
    });
    socket.on("close", () => finish(new ControlError("the supervisor closed the connection without answering", "closed")));
  });
}
