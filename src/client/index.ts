import { readClientEnv, parseInterval } from "./env.js";
import { IpcTransport } from "./ipc-transport.js";
import { signMessage, type ClientMessage, type Credentials } from "./messages.js";
import { SocketTransport } from "./socket-transport.js";
import type { Transport, TransportKind } from "./transport.js";

export type { ClientMessage, Credentials, HeartbeatMessage, HeartbeatMessageType } from "./messages.js";
export { MAX_LINE_BYTES } from "./messages.js";
export type { TransportKind } from "./transport.js";
export { DEFAULT_HEARTBEAT_MS } from "./env.js";

export interface HeartbeatOptions {
  /** beat automatically every intervalMs / 2 (default true) */
  readonly auto?: boolean;
  /** the supervisor's heartbeat interval; default VIGIL_HEARTBEAT_MS, else 5000 */
  readonly intervalMs?: number;
  /** payload of every automatic beat */
  readonly data?: () => unknown;
  readonly socketPath?: string;
  readonly service?: string;
  readonly token?: string;
}

export interface Heartbeat {
  readonly transport: TransportKind;
  beat(data?: unknown): void;
  ready(): void;
  status(text: string): void;
  /** Sends "stopping", stops automatic beats and lets go of the connection. */
  stop(): void;
}

/** Connects a child to its supervisor; outside vigil every call does nothing. */
export function heartbeat(options: HeartbeatOptions = {}): Heartbeat {
  const env = readClientEnv();
  const service = options.service ?? env.service;
  const token = options.token ?? env.token;
  const socketPath = options.socketPath ?? env.socketPath;
  const intervalMs = parseInterval(options.intervalMs) ?? env.intervalMs;

  // without a service name we were not started by vigil: say nothing, even to a parent that has an IPC channel
  if (service === undefined) return silentHeartbeat();
  let kind: TransportKind;
  let transport: Transport;
  if (IpcTransport.available()) {
    kind = "ipc";
    transport = new IpcTransport();
  } else if (socketPath !== undefined && token !== undefined) {
    kind = "socket";
    transport = new SocketTransport(socketPath);
  } else {
    return silentHeartbeat();
  }
  return new ConnectedHeartbeat(kind, transport, { service, token: token ?? "" }, intervalMs, options);
}

function silentHeartbeat(): Heartbeat {
  const nothing = (): void => {};
  return Object.freeze({ transport: "none", beat: nothing, ready: nothing, status: nothing, stop: nothing });
}

class ConnectedHeartbeat implements Heartbeat {
  private stopped = false;
  private readonly timers: { interval?: NodeJS.Timeout; first?: NodeJS.Immediate } = {};

  constructor(
    readonly transport: TransportKind,
    private readonly channel: Transport,
    private readonly credentials: Credentials,
    intervalMs: number,
    private readonly options: HeartbeatOptions,
  ) {
    if (options.auto === false) return;
    // the first beat waits a tick, so a data() that reads variables declared after heartbeat() works
    this.timers.first = setImmediate(() => this.autoBeat()).unref();
    this.timers.interval = setInterval(() => this.autoBeat(), Math.max(1, Math.floor(intervalMs / 2))).unref();
  }

  beat(data?: unknown): void {
    this.send(data === undefined ? { type: "beat" } : { type: "beat", data });
  }

  ready(): void {
    this.send({ type: "ready" });
  }

  status(text: string): void {
    this.send({ type: "status", text: String(text) });
  }

  stop(): void {
    if (this.stopped) return;
    this.send({ type: "stopping" });
    this.stopped = true;
    clearImmediate(this.timers.first);
    clearInterval(this.timers.interval);
    this.channel.close();
  }

  private autoBeat(): void {
    let data: unknown;
    try {
      data = this.options.data?.();
    } catch {
      data = undefined; // a failing payload must not cost the beat
    }
    this.beat(data);
  }

  private send(message: ClientMessage): void {
    if (this.stopped) return;
    try {
      this.channel.send(signMessage(this.credentials, message));
    } catch {
      // the child's work matters more than one heartbeat
    }
  }
}
