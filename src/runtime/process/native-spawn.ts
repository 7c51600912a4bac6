// The spawn that does not fork the supervisor (native/spawn.c, built by `npm ci` on Linux): posix_spawn
// in a clone that shares vigil's memory until the child's exec, and a pidfd per child for its exit.
// Node's spawn forks (libuv), which copies the page tables of the whole supervisor and makes each page
// it writes afterwards fault once: with a supervisor's heap, most of what a restart costs it
// (BENCHMARKS.md, "A spawn without a fork"). Used on Linux with the proc backend; the portable backend,
// and a machine where the addon was not built, spawn through node:child_process.
import { createRequire } from "node:module";
import { constants } from "node:os";

interface Addon {
  /** [pid, stdout, stderr, channel or -1], or an errno when nothing was started */
  spawn(
    file: string,
    argv: readonly string[],
    envp: readonly string[],
    cwd: string,
    fds: readonly number[],
    ipc: boolean,
    onExit: (code: number | null, signal: number) => void,
  ): readonly [number, number, number, number] | number;
  read: NativeSpawn["read"];
  stop: NativeSpawn["stop"];
  supported(): boolean;
}

/** what a native spawn gives back: the child and vigil's ends of its stdout, stderr and IPC channel */
export interface NativeChild {
  readonly pid: number;
  readonly stdout: number;
  readonly stderr: number;
  /** -1 without IPC */
  readonly channel: number;
}

/** what to start: `fds` go to descriptors 3 … 3+n-1, and with `ipc` a socket pair after them */
export interface NativeRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly fds: readonly number[];
  readonly ipc: boolean;
}

export interface NativeSpawn {
  spawn(request: NativeRequest, onExit: (code: number | null, signal: NodeJS.Signals | null) => void): NativeChild;
  /**
   * Reads one of a child's descriptors in the loop, without a net.Socket (its handle, stream states and
   * buffers, two or three a child, were the largest part of what a child cost vigil's memory):
   * onData(chunk) for each read, onData(null) once at the end (end of file or an error); closed then.
   * Throws when libuv cannot watch the descriptor, which is then still the caller's to close.
   */
  read(fd: number, onData: (chunk: Buffer | null) => void): void;
  /** ends a read at once and closes its descriptor; never after its onData(null) */
  stop(fd: number): void;
}

let loaded: NativeSpawn | null | undefined;

/** The native spawn, or null where there is none (not Linux, the portable backend, or not built). */
export function nativeSpawn(env: NodeJS.ProcessEnv = process.env): NativeSpawn | null {
  if (env["VIGIL_PROCESS_BACKEND"] === "portable" || process.platform !== "linux") return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

/** the addon's path, relative to this module in src/ and in dist/ alike */
const ADDON = "../../../build/Release/vigil_spawn.node";

function load(): NativeSpawn | null {
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(ADDON) as Addon;
  } catch {
    return null;
  }
  if (!addon.supported()) return null;
  const spawn: NativeSpawn["spawn"] = ({ file, args, cwd, env, fds, ipc }, onExit) => {
    const argv = [file, ...args];
    const envp = Object.keys(env).map((key) => `${key}=${env[key]}`);
    refuseNul(argv, "args");
    refuseNul(envp, "env");
    const result = addon.spawn(file, argv, envp, cwd, fds, ipc, (code, signal) => onExit(code, signal === 0 ? null : signalName(signal)));
    if (typeof result === "number") {
      const code = errnoName(result);
      throw Object.assign(new Error(`spawn ${file} ${code}`), { code, errno: -result, syscall: `spawn ${file}`, path: file });
    }
    const [pid, stdout, stderr, channel] = result;
    return { pid, stdout, stderr, channel };
  };
  // the module's functions use no `this`: taken as they are
  return { spawn, read: addon.read, stop: addon.stop };
}

/** as Node refuses them: a C string ends at its first NUL, and the child would get something else */
function refuseNul(list: readonly string[], what: string): void {
  for (const item of list) {
    if (item.includes("\u0000")) throw new TypeError(`The argument '${what}' must be a string without null bytes. Received ${JSON.stringify(item)}`);
  }
}

let signalNames: Map<number, NodeJS.Signals> | undefined;
function signalName(signal: number): NodeJS.Signals {
  signalNames ??= new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));
  return signalNames.get(signal) ?? (`SIG${signal}` as NodeJS.Signals);
}

function errnoName(errno: number): string {
  for (const [name, n] of Object.entries(constants.errno)) if (n === errno) return name;
  return `errno ${errno}`;
}
