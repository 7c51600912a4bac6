import { join } from "node:path";
import { loadManifest } from "../manifest/load.js";
import { ManifestError } from "../manifest/errors.js";
import type { Manifest } from "../manifest/types.js";
import { LockError } from "../runtime/state/lock.js";
import { processes, UnsupportedPlatformError } from "../runtime/process/table.js";
import { createLogger } from "../runtime/outputs/logger.js";
import { createPrinter, wantsColor } from "../runtime/outputs/printer.js";
import { Stack } from "../runtime/stack.js";
import type { ManagerEnv } from "../runtime/notify/systemd-notifier.js";
import { losable } from "./losable-output.js";
import { UserError } from "./user-error.js";
import { didYouMean } from "../manifest/suggest.js";
import { nativeSpawn } from "../runtime/process/native-spawn.js";

export interface UpOptions {
  /** an ISO time before each line of children's output */
  readonly timestamps?: boolean;
  /**
   * run as the background supervisor of `vigil up -d`: nothing on the terminal (output goes to the logs
   * and vigil.log), and the outcome of the opening told to the parent over the IPC channel (detached.ts)
   */
  readonly detachedChild?: boolean;
  /** start only these services and what they depend on (none: every service) */
  readonly only?: readonly string[];
}

/** `vigil up`: run the stack in the foreground until SIGINT/SIGTERM or `vigil down`. Resolves with the exit status. */
export async function upCommand(file: string, opts: UpOptions = {}): Promise<number> {
  const detached = opts.detachedChild === true;
  const only = opts.only ?? [];
  const manifest = await load(file);
  const known = manifest.services.map((c) => c.name);
  const unknown = only.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    const hint = unknown.length === 1 ? didYouMean(unknown[0], known) : "";
    throw new UserError(`vigil: unknown service${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}${hint} (known: ${known.join(", ")})`, 1);
  }
  // a platform without Unix processes, or a VIGIL_PROCESS_BACKEND vigil has not: said before anything is made
  try {
    processes();
  } catch (err) {
    if (err instanceof UnsupportedPlatformError) throw new UserError(`vigil: ${err.message}`, 1, { cause: err });
    throw err;
  }
  // losing the terminal or the pipe is logged to vigil.log and changes nothing else
  const outputLost = (which: string) => (err: NodeJS.ErrnoException): void =>
    logger.log("warn", null, "output-lost", `${which} is gone (${err.code ?? err.message}); supervising on, output in ${manifest.stateDir}`);
  const stderr = detached ? null : losable(process.stderr, outputLost("stderr"));
  const stdout = detached ? null : losable(process.stdout, outputLost("stdout"));
  const logger = createLogger({ file: join(manifest.stateDir, "vigil.log"), stderr, color: wantsColor(process.stderr) });
  if (processes().backend === "proc" && nativeSpawn() === null) {
    logger.log("warn", null, "spawn", "the native spawn (native/spawn.c) is not built: children are started through node:child_process, which forks vigil (slower restarts); `npm run build` builds it where python3, make and a C compiler are");
  }
  const printer = createPrinter(stdout, { color: wantsColor(process.stdout), timestamps: opts.timestamps === true });
  printer.setNames(manifest.services.flatMap((s) => (s.replicas === 1 ? [s.name] : Array.from({ length: s.replicas }, (_, i) => `${s.name}.${i}`))));
  let stack: Stack;
  try {
    stack = await Stack.open(manifest, { logger, printer, manager: managerEnv(), envFixed: true });
  } catch (err) {
    if (err instanceof LockError) throw new UserError(`vigil: ${err.message}`, 1, { cause: err });
    throw new UserError(`vigil: cannot use state directory ${manifest.stateDir}: ${(err as Error).message}`, 1, { cause: err });
  }

  // A bug must not leave children behind: kill every group we started, then die loudly.
  const onCrash = (err: unknown): void => {
    logger.log("error", null, "crash", `internal error, killing all children: ${(err as Error)?.stack ?? String(err)}`);
    stack.killAllNow();
    process.exit(70);
  };
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      logger.log("info", null, "signal", `${signal} received; stopping (again to kill at once)`);
      void stack.shutdown();
    } else {
      stack.killAll();
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", () => {
    logger.log("info", null, "signal", "SIGHUP received; reloading the manifest");
    void stack.reload();
  });

  try {
    await stack.start(only);
  } catch (err) {
    logger.log("error", null, "start-failed", `cannot start: ${(err as Error).message}`);
    await stack.shutdown();
    await logger.flush();
    throw new UserError(`vigil: cannot start the stack: ${(err as Error).message}`, 1, { cause: err });
  }
  if (detached) await tellParent({ type: "opened", pid: process.pid });
  else if (stderr) {
    const link = dashboardLink(stack, process.env);
    if (link !== null) stderr.write(`vigil: dashboard at ${link}\n`);
  }
  await stack.stopped();
  await logger.flush();
  // everything is closed; end now rather than wait for a library's stray timer, so that `vigil down`,
  // which waits for this process to be gone, returns at once
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(0);
}

/**
 * The dashboard's address; with a token, a login link that carries it (`?t=`), as the .NET Aspire
 * dashboard prints one: the page keeps the token for the tab and takes it out of the address.
 */
export function dashboardLink(stack: Stack, env: NodeJS.ProcessEnv): string | null {
  const address = stack.httpAddress;
  const http = stack.manifest.http;
  if (!address || !http) return null;
  const host = address.host === "0.0.0.0" || address.host === "::" ? "localhost" : address.host.includes(":") ? `[${address.host}]` : address.host;
  const base = `http://${host}:${address.port}/`;
  const token = http.tokenEnv ? env[http.tokenEnv]?.trim() : undefined;
  return token ? `${base}?t=${encodeURIComponent(token)}` : `${base} (read-only: no token)`;
}

/** Resolves once what was written to `stream` has been handed to the system (or the stream is gone). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write("", () => resolve());
  });
}

/** The background supervisor's word to `vigil up -d`, which waits for it (detached.ts). */
export type DetachedMessage = { readonly type: "opened"; readonly pid: number } | { readonly type: "failed"; readonly message: string; readonly exitCode: number };

/** Sends `message` to the parent and lets go of the channel; a parent that is gone already is no matter. */
export function tellParent(message: DetachedMessage): Promise<void> {
  return new Promise((done) => {
    if (!process.send || !process.connected) return done();
    process.send(message, undefined, {}, () => {
      if (process.connected) process.disconnect();
      done();
    });
  });
}

/** What systemd (or another manager speaking its protocol) told `vigil up` of itself. */
function managerEnv(): ManagerEnv {
  const { NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID } = process.env;
  return { NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID };
}

export async function load(file: string): Promise<Manifest> {
  try {
    return await loadManifest(file);
  } catch (err) {
    if (err instanceof ManifestError) throw new UserError(err.format(), 2, { cause: err });
    throw err;
  }
}
