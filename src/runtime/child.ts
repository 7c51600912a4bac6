import { execa } from "execa";
import type { ServiceConfig } from "../manifest/types.js";
import { LineSplitter } from "./line-splitter.js";

export interface ChildCallbacks {
  onLine(stream: "out" | "err", line: string): void;
  /** the main process ended (its descendants may live on; the caller ends them) */
  onExit(code: number | null, signal: string | null): void;
  /** the command could not be started at all */
  onSpawnError(message: string): void;
  /** a line on the IPC channel: the parsed message, or NOT_JSON */
  onMessage?(message: unknown): void;
}

export const NOT_JSON: unique symbol = Symbol("not JSON");

/** fd 3 of an IPC child: Node children open it as their process.send channel (JSON lines) */
const IPC_FD = 3;

export interface ChildHandle {
  /** undefined when the spawn failed; onSpawnError follows */
  readonly pid: number | undefined;
}

/**
 * Start one child in its own process group (detached), stdin closed, stdout/stderr read line by line.
 * Errors never throw: a failed spawn is reported through onSpawnError.
 */
export function spawnChild(
  service: ServiceConfig,
  baseEnv: Readonly<Record<string, string>>,
  ipc: boolean,
  cb: ChildCallbacks,
): ChildHandle {
  const env = ipc ? { ...baseEnv, NODE_CHANNEL_FD: String(IPC_FD), NODE_CHANNEL_SERIALIZATION_MODE: "json" } : baseEnv;
  const [file, ...args] = service.argv;
  const sub = execa(file ?? "", args, {
    cwd: service.cwd,
    env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    reject: false,
    buffer: false,
    // Node's own IPC would throw a child's malformed line into the supervisor; a plain socket pair
    // on fd 3, read here line by line, gives the child the same process.send() without that risk
    stdio: ipc ? ["ignore", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe"],
    encoding: "buffer",
    stripFinalNewline: false,
  });
  const out = new LineSplitter((line) => cb.onLine("out", line));
  const err = new LineSplitter((line) => cb.onLine("err", line));
  sub.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
  sub.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
  sub.stdout?.on("end", () => out.end());
  sub.stderr?.on("end", () => err.end());
  const channel = ipc ? (sub.stdio as unknown as ReadonlyArray<NodeJS.ReadableStream | null>)[IPC_FD] : undefined;
  if (channel) {
    const lines = new LineSplitter((line) => {
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        message = NOT_JSON;
      }
      cb.onMessage?.(message);
    });
    channel.on("data", (chunk: Buffer) => lines.push(chunk));
    channel.on("error", () => undefined);
  }
  // 'exit', not the promise: a grandchild holding the pipes open must not hide the main process's end
  sub.on("exit", (code, signal) => cb.onExit(code, signal));
  void sub.then((result) => {
    if (sub.pid === undefined) cb.onSpawnError(result.originalMessage ?? result.shortMessage ?? "spawn failed");
  });
  return { pid: sub.pid };
}
