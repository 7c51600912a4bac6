// A real heartbeat socket for client tests, and child processes that are always cleaned up.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface Received {
  readonly atMs: number;
  readonly message: Record<string, unknown>;
}

export class HeartbeatServer {
  readonly received: Received[] = [];
  readonly raw: string[] = [];
  private readonly connections = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly paused: boolean,
  ) {
    server.on("connection", (socket) => this.accept(socket));
  }

  static async listen(path: string, opts: { paused?: boolean } = {}): Promise<HeartbeatServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, resolve);
    });
    return new HeartbeatServer(server, opts.paused === true);
  }

  ofType(type: string): Received[] {
    return this.received.filter((r) => r.message["type"] === type);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Goes away like a killed supervisor: every connection dropped, the socket file removed. */
  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.connections.add(socket);
    socket.on("close", () => this.connections.delete(socket));
    socket.on("error", () => {});
    if (this.paused) {
      socket.pause();
      return;
    }
    let buffer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.raw.push(`${line}\n`);
        this.received.push({ atMs: performance.now(), message: JSON.parse(line) as Record<string, unknown> });
      }
    });
  }
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class ScriptProcess {
  stdout = "";
  stderr = "";
  exit: Exit | null = null;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (this.stdout += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
    child.on("exit", (code, signal) => (this.exit = { code, signal }));
  }

  waitForExit(timeoutMs = 5000): Promise<Exit> {
    return waitFor(`the child to exit (stderr: ${this.stderr})`, () => this.exit ?? undefined, timeoutMs);
  }
}

const started: ChildProcess[] = [];

/** Runs an ES module given as text in a new node process with exactly this environment (plus PATH). */
export function runScript(code: string, env: Record<string, string>, options: SpawnOptions = {}, nodeArgs: string[] = []): ScriptProcess {
  const child = spawn(process.execPath, [...nodeArgs, "--input-type=module", "-e", code], {
    stdio: ["pipe", "pipe", "pipe"],
    ...options,
    env: { PATH: process.env["PATH"] ?? "", ...env },
  });
  started.push(child);
  return new ScriptProcess(child);
}

/** Kills, by PID, every process runScript started that is still running. */
export function killStarted(): void {
  for (const child of started.splice(0)) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
