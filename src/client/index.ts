import { readClientEnv, parseInterval } from "./env.js";
import { IpcTransport } from "./ipc-transport.js";
import { signMessage, type ClientMessage, type Credentials } from "./messages.js";
import { SocketTransport } from "./socket-transport.js";
import type { Transport, TransportKind } from "./transport.js";

/** the supervisor keeps a task's name up to this many characters */
const MAX_TASK_NAME = 256;

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
  /**
   * Reports a task (a request, a job) as started; progress() and end() report the rest. The supervisor
   * warns when one makes no progress for `tasks.stale_after` and acts when one runs past `tasks.timeout`.
   * `id` is 1 to 256 characters, unique among the open tasks of this child.
   */
  task(id: string, name?: string): Task;
  /** Sends "stopping", stops automatic beats and lets go of the connection. */
  stop(): void;
}

export interface Task {
  readonly id: string;
  progress(): void;
  /** the task is done (whether it succeeded is the child's business); later calls do nothing */
  end(): void;
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
  const task = (id: string): Task => Object.freeze({ id: String(id), progress: nothing, end: nothing });
  return Object.freeze({ transport: "none", beat: nothing, ready: nothing, status: nothing, task, stop: nothing });
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

  task(id: string, name?: string): Task {
    const taskId = String(id);
    const named = name === undefined ? {} : { name: String(name).slice(0, MAX_TASK_NAME) };
    this.send({ type: "task", id: taskId, event: "start", ...named });
    let ended = false;
    return Object.freeze({
      id: taskId,
      progress: () => {
        if (!ended) this.send({ type: "task", id: taskId, event: "progress" });
      },
      end: () => {
        if (ended) return;
        ended = true;
        this.send({ type: "task", id: taskId, event: "end" });
      },
    });
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
