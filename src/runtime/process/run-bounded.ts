// One command run to its end within bounds: in its own process group, killed with every descendant at
// its timeout (or when stop aborts), with what it left in its group ended at its exit, and only the
// first outputLimitBytes of its output kept. Never rejects; how it ended is in the result.
//
// Started by the native spawn where services' children are (native/spawn.c: no fork of the supervisor,
// which a probe every few seconds would pay each time), else by execa; a command given input (an alert's
// payload on stdin) always by execa, since the native spawn gives stdin /dev/null.
import { closeSync, statSync } from "node:fs";
import type { execa as Execa } from "execa";
import { signalGroup } from "./kill.js";
import { nativeSpawn, type NativeChild, type NativeSpawn } from "./native-spawn.js";
import { descendantsIn, groupMembersIn } from "./proc.js";
import { processes } from "./table.js";

export interface RunBoundedOptions {
  /** absolute */
  readonly cwd: string;
  /** the whole environment: nothing of vigil's own is added */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs: number;
  /** written to stdin; without it stdin is /dev/null */
  readonly input?: string;
  readonly outputLimitBytes: number;
  /** aborting it kills the command as its timeout would (shutdown) */
  readonly stop?: AbortSignal;
}

export interface BoundedRun {
  /** the status it ended with; both null when it never started */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** killed because its timeout passed */
  readonly timedOut: boolean;
  /** killed because stop aborted */
  readonly stopped: boolean;
  /** stdout and stderr as they came, trimmed; ending in "…" when cut at outputLimitBytes */
  readonly output: string;
  /** why it never started: "ENOENT" for a missing program, a sentence for a bad working directory */
  readonly error?: string;
}

/** after a kill or an exit, how long to wait for the command to be reaped and its pipes to close */
const REAP_WAIT_MS = 500;

// execa is loaded with the first command that needs it: most stacks run none (it is 4 MiB of heap)
let execaLoaded: Promise<typeof Execa> | null = null;

export async function runBounded(argv: readonly string[], options: RunBoundedOptions): Promise<BoundedRun> {
  const [file, ...args] = argv;
  if (file === undefined) return notStarted("empty command");
  const output = new BoundedOutput(options.outputLimitBytes);
  const native = options.input === undefined ? nativeSpawn() : null;
  if (native) {
    const started = startNative(native, file, args, options, output);
    return typeof started === "string" ? notStarted(started) : watch(started, output, options);
  }
  execaLoaded ??= import("execa").then((m) => m.execa);
  return startExeca(await execaLoaded, file, args, options, output);
}

/** a started command, whichever spawn started it */
interface Started {
  readonly pid: number;
  /** settles once the command has exited and its output has ended */
  readonly finished: Promise<unknown>;
  /** calls back once with how the command itself exited */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** stops reading its output */
  close(): void;
}

function notStarted(error: string): BoundedRun {
  return { exitCode: null, signal: null, timedOut: false, stopped: false, output: "", error };
}

/** The command's end, its timeout, a stop: whichever comes first settles the run. */
function watch(run: Started, output: BoundedOutput, { timeoutMs, stop }: RunBoundedOptions): Promise<BoundedRun> {
  const { pid } = run;
  const reaped = (): Promise<unknown> => Promise.race([run.finished, new Promise((wait) => setTimeout(wait, REAP_WAIT_MS).unref())]);
  return new Promise<BoundedRun>((resolve) => {
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let killedFor: "timeout" | "stop" | undefined;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop?.removeEventListener("abort", onAbort);
      run.close();
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut: killedFor === "timeout",
        stopped: killedFor === "stop",
        output: output.text(),
      });
    };
    const kill = (reason: "timeout" | "stop"): void => {
      if (settled || killedFor !== undefined) return;
      // it ended in time; what still holds its pipes is outside its group
      if (exit !== undefined) return settle();
      killedFor = reason;
      killJob(pid);
      void reaped().then(settle);
    };
    const timer = setTimeout(() => kill("timeout"), timeoutMs);
    const onAbort = (): void => kill("stop");
    stop?.addEventListener("abort", onAbort, { once: true });
    if (stop?.aborted) onAbort();
    run.onExit((code, signal) => {
      exit = { code, signal };
      // what it left running in its group goes with it, so that its pipes close too
      killGroup(pid);
      void reaped().then(settle);
    });
  });
}

/** Through native/spawn.c: a new session (so its own group), stdin /dev/null; or why it did not start. */
function startNative(native: NativeSpawn, file: string, args: readonly string[], options: RunBoundedOptions, output: BoundedOutput): Started | string {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env[key] = value;
  let exited: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  let heard: () => void = () => undefined;
  const exitHeard = new Promise<void>((resolve) => (heard = resolve));
  let child: NativeChild;
  try {
    child = native.spawn({ file, args, cwd: options.cwd, env, fds: [], ipc: false }, (code, signal) => {
      heard();
      exited?.(code, signal);
    });
  } catch (err) {
    return nativeFailure(err as NodeJS.ErrnoException, options.cwd);
  }
  const open = new Set([child.stdout, child.stderr]);
  let ended: () => void = () => undefined;
  const outputEnded = new Promise<void>((resolve) => (ended = resolve));
  const end = (fd: number): void => {
    open.delete(fd);
    if (open.size === 0) ended();
  };
  for (const fd of [child.stdout, child.stderr]) {
    try {
      native.read(fd, (chunk) => (chunk === null ? end(fd) : output.push(chunk)));
    } catch {
      // a descriptor libuv cannot watch: its output is lost, the run is not
      closeSync(fd);
      end(fd);
    }
  }
  // the exit comes on a later turn of the loop than the spawn, so it always finds its listener
  return {
    pid: child.pid,
    finished: Promise.all([exitHeard, outputEnded]),
    onExit: (listener) => (exited = listener),
    close: () => {
      for (const fd of open) native.stop(fd);
      open.clear();
    },
  };
}

/** as execa words it (the first line): the program's error code, or what is wrong with the working directory */
function nativeFailure(err: NodeJS.ErrnoException, cwd: string): string {
  if (err.syscall === undefined) return err.message;
  if (err.code === "ENOENT" || err.code === "ENOTDIR") {
    try {
      if (!statSync(cwd).isDirectory()) return `The "cwd" option is not a directory: ${cwd}.`;
    } catch {
      return `The "cwd" option is invalid: ${cwd}.`;
    }
  }
  return err.code ?? err.message;
}

async function startExeca(execa: typeof Execa, file: string, args: readonly string[], options: RunBoundedOptions, output: BoundedOutput): Promise<BoundedRun> {
  const { input } = options;
  const sub = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    // its own process group, so that it and everything it starts can be killed together
    detached: true,
    cleanup: false,
    reject: false,
    buffer: false,
    ...(input === undefined ? { stdin: "ignore" as const } : { input }),
    stdout: "pipe",
    stderr: "pipe",
    encoding: "buffer",
    forceKillAfterDelay: false,
  });
  const pid = sub.pid;
  if (pid === undefined) return notStarted(spawnFailure(await sub));
  sub.stdout?.on("data", (chunk: Buffer) => output.push(chunk));
  sub.stderr?.on("data", (chunk: Buffer) => output.push(chunk));
  return watch(
    {
      pid,
      finished: sub,
      onExit: (listener) => sub.once("exit", listener),
      close: () => {
        sub.stdout?.destroy();
        sub.stderr?.destroy();
      },
    },
    output,
    options,
  );
}

/** head, then the output after a colon when there is any */
export function withOutput(head: string, output: string): string {
  return output === "" ? head : `${head}: ${output}`;
}

/** "ENOENT" for a missing program; execa's own words for a bad option such as a missing cwd */
function spawnFailure(result: { code?: string | undefined; originalMessage?: string | undefined }): string {
  const message = result.originalMessage?.split("\n")[0] ?? "";
  if (message === "" || message.startsWith("spawn ")) return result.code ?? (message || "spawn failed");
  return message;
}

function killGroup(pgid: number): void {
  try {
    signalGroup(pgid, "SIGKILL");
  } catch {
    // a pgid vigil must not signal cannot be a detached command's
  }
}

/** SIGKILL the command's group and its descendants, found before the kill reparents them. */
function killJob(pid: number): void {
  const stats = processes().list();
  const members = new Set([pid, ...groupMembersIn(stats, pid), ...descendantsIn(stats, [pid])]);
  killGroup(pid);
  // descendants that left the group (setsid, setpgid)
  for (const member of members) {
    try {
      process.kill(member, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** The first limitBytes of everything written, read to the end so the command never blocks on a full pipe. */
class BoundedOutput {
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #truncated = false;

  constructor(readonly limitBytes: number) {}

  push(chunk: Buffer): void {
    const kept = chunk.subarray(0, Math.max(0, this.limitBytes - this.#bytes));
    this.#truncated ||= kept.length < chunk.length;
    if (kept.length === 0) return;
    this.#chunks.push(Buffer.from(kept));
    this.#bytes += kept.length;
  }

  text(): string {
    const text = Buffer.concat(this.#chunks).toString("utf8").trim();
    return this.#truncated ? `${text}…` : text;
  }
}
