// Many connections to one socket, held open by a test: the crowd an attacker brings. With `refill`,
// each connection the server closes is opened again at once, so the crowd never shrinks.
import { createConnection, type NetConnectOpts, type Socket } from "node:net";
import { readFileSync } from "node:fs";

export class Crowd {
  private readonly sockets = new Set<Socket>();
  private closing = false;
  /** connections the server closed (refused, evicted or timed out) */
  closedByServer = 0;

  private constructor(
    private readonly target: NetConnectOpts,
    private readonly refill: boolean,
    /** written by each connection once connected: a greeting, or nothing to stay idle */
    private readonly greeting: string,
  ) {}

  /** Opens `count` connections and resolves once each has connected or failed. */
  static async open(target: NetConnectOpts, count: number, opts: { refill?: boolean; greeting?: string } = {}): Promise<Crowd> {
    const crowd = new Crowd(target, opts.refill === true, opts.greeting ?? "");
    await Promise.all(Array.from({ length: count }, () => crowd.connect()));
    return crowd;
  }

  get size(): number {
    return this.sockets.size;
  }

  private connect(): Promise<void> {
    return new Promise((resolve) => {
      const socket = createConnection(this.target);
      let connected = false;
      this.sockets.add(socket);
      socket.on("connect", () => {
        connected = true;
        if (this.greeting !== "") socket.write(this.greeting);
        resolve();
      });
      let busyServer = false;
      socket.on("error", (err: NodeJS.ErrnoException) => {
        // a Unix socket's backlog is full for a moment: try again
        busyServer = !connected && err.code === "EAGAIN";
      });
      socket.on("close", () => {
        this.sockets.delete(socket);
        if (busyServer && !this.closing) return void setImmediate(() => void this.connect().then(resolve));
        resolve();
        // a connection refused (the server has gone) is not tried again
        if (this.closing || !connected) return;
        this.closedByServer++;
        if (this.refill) void this.connect();
      });
      // read what the server says, so that only the server's choice closes the connection
      socket.resume();
    });
  }

  close(): void {
    this.closing = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}

/** VmRSS of a process, from /proc/PID/status */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}
