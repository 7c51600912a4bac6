import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { closeSync, statSync } from "node:fs";
import type { Readable } from "node:stream";
import { LineSplitter } from "./line-splitter.js";
import type { Cgroup, CgroupRoot } from "./cgroup.js";
import { nativeSpawn, type NativeChild, type NativeRequest, type NativeSpawn } from "./native-spawn.js";

export interface ChildCallbacks {
  onLine(stream: "out" | "err", line: string): void;
  /** the main process ended (its descendants may live on; the caller ends them) */
  onExit(code: number | null, signal: string | null): void;
  /** the command could not be started at all */
  onSpawnError(message: string): void;
  /** a line on the IPC channel: the parsed message, NOT_JSON, or TOO_LONG (over IPC_MAX_LINE_BYTES, dropped whole) */
  onMessage?(message: unknown): void;
}

export const NOT_JSON: unique symbol = Symbol("not JSON");
export const TOO_LONG: unique symbol = Symbol("line too long");
/** SPEC §3: a message is one line of at most 64 KiB, over IPC as over the socket */
const IPC_MAX_LINE_BYTES = 64 * 1024;

/** the first descriptor after stdin, stdout and stderr: listening sockets from here on, then an IPC child's channel */
const FIRST_EXTRA_FD = 3;
/**
 * sd_listen_fds(3) takes the sockets only when LISTEN_PID is the caller's own pid, which vigil knows only
 * after the fork: a shell sets it to its own pid ($$) and execs the command, which keeps that pid
 */
const LISTEN_PID_SHIM = ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"'];

export interface ChildHandle {
  /** undefined when the spawn failed; onSpawnError follows */
  readonly pid: number | undefined;
  /** the child (with whatever it forked before) was moved into the cgroup it was given */
  readonly inCgroup: boolean;
  /**
   * The job has ended: output pipes still open are closed after a moment to read what is left, so
   * that a process vigil could not end (one that escaped it unseen) cannot hold vigil up.
   */
  release(): void;
}

/** how long the pipes of an ended job may still deliver output */
const RELEASE_GRACE_MS = 200;

const NO_CHILD: ChildHandle = { pid: undefined, inCgroup: false, release: () => undefined };

/** listening sockets for the child, from fd 3 on, with their names (LISTEN_FDNAMES) */
export interface Sockets {
  readonly fds: readonly number[];
  readonly names: readonly string[];
}

/** what to run and where */
export interface Command {
  readonly argv: readonly string[];
  /** absolute */
  readonly cwd: string;
}

/** the cgroup a child is moved into at its start, and the root that moves it */
type CgroupTarget = { readonly root: CgroupRoot; readonly cgroup: Cgroup };

/**
 * Start one child in its own process group (detached), stdin closed, stdout/stderr read line by line.
 * Errors never throw: a failed spawn is reported through onSpawnError.
 *
 * Through native/spawn.c where it is built (Linux, proc backend: no fork of vigil), else through
 * node:child_process; never execa (which run-bounded.ts uses for one-off commands given input): this is the hot path
 * of start-up and restarts, and execa's per-spawn setup cost about 1.1 ms and 56 KiB of supervisor
 * memory per child (BENCHMARKS.md, "Scale").
 */
export function spawnChild(
  service: Command,
  baseEnv: Readonly<Record<string, string>>,
  ipc: boolean,
  cb: ChildCallbacks,
  cgroup: CgroupTarget | null = null,
  sockets: Sockets | null = null,
): ChildHandle {
  const fds = sockets?.fds ?? [];
  let env = ipc ? { ...baseEnv, NODE_CHANNEL_FD: String(FIRST_EXTRA_FD + fds.length), NODE_CHANNEL_SERIALIZATION_MODE: "json" } : baseEnv;
  if (sockets && fds.length > 0) env = { ...env, LISTEN_FDS: String(fds.length), LISTEN_FDNAMES: sockets.names.join(":") };
  const [file = "", ...args] = fds.length > 0 ? [...LISTEN_PID_SHIM, ...service.argv] : service.argv;
  const native = nativeSpawn();
  if (native) return spawnNative(native, { file, args, cwd: service.cwd, env, fds, ipc }, cb, cgroup);
  let sub: ChildProcess;
  let inCgroup: boolean;
  const start = spawnLater(file, args, {
    cwd: service.cwd,
    env,
    detached: true,
    // Node's own IPC would throw a child's malformed line into the supervisor; a plain socket pair
    // on fd 3, read here line by line, gives the child the same process.send() without that risk
    // the listening sockets at 3 … 3+n-1 (each a descriptor vigil holds), the channel after them
    stdio: ["ignore", "pipe", "pipe", ...fds, ...(ipc ? ["pipe" as const] : [])],
  });
  try {
    ({ value: sub, inside: inCgroup } = startIn(start, cgroup));
  } catch (err) {
    // invalid arguments (a NUL byte in the command): reported like any failed spawn, on a later turn
    const message = (err as Error).message;
    queueMicrotask(() => cb.onSpawnError(message));
    return NO_CHILD;
  }
  let exited = false;
  sub.on("error", (err: NodeJS.ErrnoException) => {
    // after a successful spawn, an error is about a signal or a pipe: the exit still comes
    if (sub.pid !== undefined || exited) return;
    exited = true;
    cb.onSpawnError(spawnErrorMessage(err, service.cwd));
  });
  const channel = ipc ? (sub.stdio[FIRST_EXTRA_FD + fds.length] as Readable | null | undefined) : undefined;
  // 'exit', not 'close': a grandchild holding the pipes open must not hide the main process's end
  sub.on("exit", (code, signal) => {
    if (exited) return;
    exited = true;
    cb.onExit(code, signal);
  });
  return readChild(sub.pid, inCgroup, sourceOf(sub.stdout), sourceOf(sub.stderr), sourceOf(channel), cb);
}

/** spawnChild through native/spawn.c: no fork of the supervisor, and the exit told by the child's pidfd */
function spawnNative(native: NativeSpawn, request: NativeRequest, cb: ChildCallbacks, cgroup: CgroupTarget | null): ChildHandle {
  const start = nativeLater(native, request, (code, signal) => cb.onExit(code, signal));
  const { cwd } = request;
  let child: NativeChild;
  let inCgroup: boolean;
  try {
    ({ value: child, inside: inCgroup } = startIn(start, cgroup));
  } catch (err) {
    // nothing started (ENOENT, EACCES, a missing cwd), or invalid arguments (a NUL byte): on a later turn
    const message = (err as NodeJS.ErrnoException).syscall === undefined ? (err as Error).message : spawnErrorMessage(err as NodeJS.ErrnoException, cwd);
    queueMicrotask(() => cb.onSpawnError(message));
    return NO_CHILD;
  }
  const channel = child.channel < 0 ? undefined : new NativeSource(native, child.channel);
  return readChild(child.pid, inCgroup, new NativeSource(native, child.stdout), new NativeSource(native, child.stderr), channel, cb);
}

/** start(), moved into the cgroup at once where there is one */
function startIn<T extends { readonly pid?: number | undefined }>(
  start: () => T,
  cgroup: CgroupTarget | null,
): { readonly value: T; readonly inside: boolean } {
  return cgroup ? cgroup.root.spawnInto(cgroup.cgroup, start) : { value: start(), inside: false };
}

/** one of a child's outputs (stdout, stderr, the IPC channel), read chunk by chunk to its end */
interface Source {
  /** onData(chunk) for each read, then onData(null) once at the end */
  listen(onData: (chunk: Buffer | null) => void): void;
  /** neither at its end nor closed */
  readonly open: boolean;
  /** stops reading it and closes it */
  close(): void;
}

/** a pipe of node:child_process */
class StreamSource implements Source {
  constructor(private readonly stream: Readable) {}

  listen(onData: (chunk: Buffer | null) => void): void {
    this.stream.on("data", onData);
    this.stream.on("end", () => onData(null));
    // a reset of the other end is its end too: the exit still comes
    this.stream.on("error", () => undefined);
  }

  get open(): boolean {
    return !(this.stream.readableEnded || this.stream.destroyed);
  }

  close(): void {
    this.stream.destroy();
  }
}

/** vigil's end of one of a child's socket pairs from the native spawn, read by native/spawn.c */
class NativeSource implements Source {
  #open = true;

  constructor(
    private readonly native: NativeSpawn,
    private readonly fd: number,
  ) {}

  listen(onData: (chunk: Buffer | null) => void): void {
    try {
      this.native.read(this.fd, (chunk) => {
        if (chunk === null) this.#open = false;
        onData(chunk);
      });
    } catch {
      // libuv could not watch it (no memory for the watch): its output is lost, the child is not
      this.#open = false;
      closeSync(this.fd);
      queueMicrotask(() => onData(null));
    }
  }

  get open(): boolean {
    return this.#open;
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.native.stop(this.fd);
  }
}

const sourceOf = (stream: Readable | null | undefined): Source | undefined => (stream ? new StreamSource(stream) : undefined);

/** stdout and stderr line by line, the IPC channel's lines as messages, and the handle that ends them */
function readChild(
  pid: number | undefined,
  inCgroup: boolean,
  stdout: Source | undefined,
  stderr: Source | undefined,
  channel: Source | undefined,
  cb: ChildCallbacks,
): ChildHandle {
  const out = new LineSplitter((line) => cb.onLine("out", line));
  const err = new LineSplitter((line) => cb.onLine("err", line));
  stdout?.listen((chunk) => (chunk === null ? out.end() : out.push(chunk)));
  stderr?.listen((chunk) => (chunk === null ? err.end() : err.push(chunk)));
  if (channel) {
    const lines = new LineSplitter((line) => {
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        message = NOT_JSON;
      }
      cb.onMessage?.(message);
    }, IPC_MAX_LINE_BYTES, () => cb.onMessage?.(TOO_LONG));
    channel.listen((chunk) => {
      if (chunk !== null) lines.push(chunk);
    });
  }
  const pipes = [stdout, stderr, channel].filter((p): p is Source => p !== undefined);
  return {
    pid,
    inCgroup,
    release() {
      if (pipes.every((p) => !p.open)) return;
      setTimeout(() => {
        for (const p of pipes) p.close();
      }, RELEASE_GRACE_MS).unref();
    },
  };
}

/** nativeLater is spawnLater's twin: the environment stays out of the scope the handlers share */
function nativeLater(native: NativeSpawn, request: NativeRequest, onExit: (code: number | null, signal: NodeJS.Signals | null) => void): () => NativeChild {
  return () => native.spawn(request, onExit);
}

/**
 * The spawn as a function of its own, made outside spawnChild: a closure there would keep the child's
 * whole environment and arguments in the scope its exit and output handlers share, for as long as the
 * child runs (an object of every variable per running child)
 */
function spawnLater(file: string, args: readonly string[], options: SpawnOptions): () => ChildProcess {
  return () => spawn(file, args, options);
}

/** "spawn ./x ENOENT", and when the working directory is what is missing, that said first */
function spawnErrorMessage(err: NodeJS.ErrnoException, cwd: string): string {
  if (err.code === "ENOENT") {
    try {
      if (!statSync(cwd).isDirectory()) return `the "cwd" ${cwd} is not a directory\n${err.message}`;
    } catch (statErr) {
      return `the "cwd" ${cwd} cannot be used: ${(statErr as Error).message}\n${err.message}`;
    }
  }
  return err.message;
}
