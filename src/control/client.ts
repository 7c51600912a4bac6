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
export function request(stateDir: string, req: ControlRequest, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(controlSocketPath(stateDir));
    const buffered: string[] = [];
    let settled = false;
    const finish = (err: Error | null, value?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new ControlError(`the supervisor did not answer within ${timeoutMs} ms`, "timeout")), timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${JSON.stringify(req)}\n`));
    socket.on("data", (chunk: string) => {
      // a status document of 1,000 services comes in dozens of chunks: look for the end in the new one only
      const nl = chunk.indexOf("\n");
      if (nl < 0) {
        buffered.push(chunk);
        return;
      }
      buffered.push(chunk.slice(0, nl));
      let response: ControlResponse;
      try {
        response = JSON.parse(buffered.join("")) as ControlResponse;
      } catch (err) {
        return finish(new ControlError("the supervisor sent an answer that is not JSON", "bad-response", { cause: err }));
      }
      if (response.ok) finish(null, response.data);
      else finish(new ControlError(response.error, response.code));
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
