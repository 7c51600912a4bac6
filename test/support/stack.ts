// Runs the real `vigil` CLI against a manifest in a temporary directory, and cleans up after it.
import { spawn, type ChildProcess } from "node:child_process";
import { watch, type FSWatcher } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach } from "vitest";
import type { ServiceDoc, StatusDocument } from "../../src/control/status-document.js";
import { isRunning, processesWithEnv } from "./processes.js";

// the CLI tests take it from here along with the stacks
export { isRunning };

export const CLI = resolve(import.meta.dirname, "../../dist/cli/main.js");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one CLI command to its end; env is added to the test's environment (undefined leaves a variable out). */
export function vigil(args: readonly string[], cwd: string, timeoutMs = 20_000, env: Readonly<Record<string, string | undefined>> = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`vigil ${args.join(" ")} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export class Stack {
  up: ChildProcess | null = null;
  stdout = "";
  stderr = "";
  private exitPromise: Promise<number | null> | null = null;
  /** every pid any service ever had, to prove none is left behind */
  readonly seenPids = new Set<number>();

  private constructor(readonly dir: string) {
    changes.add(dir);
  }

  static async create(manifest: string, files: Record<string, string> = {}): Promise<Stack> {
    const dir = await mkdtemp(join(tmpdir(), "vigil-test-"));
    await writeFile(join(dir, "supervisor.yaml"), manifest);
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text, { mode: 0o755 });
    return new Stack(dir);
  }

  get stateDir(): string {
    return join(this.dir, ".vigil");
  }

  /**
   * Every live process that inherited this stack's marker (VIGIL_TEST_STACK in the environment of
   * `vigil up`, and so of everything it starts), `vigil up` itself excluded: what would be left behind.
   */
  leftovers(): number[] {
    return processesWithEnv(`VIGIL_TEST_STACK=${this.dir}`).filter((pid) => pid !== this.up?.pid);
  }

  /** Starts `vigil up` in the background (through the executable `via`, else dist/cli/main.js). */
  start(
    extraArgs: readonly string[] = [],
    /** added to the test's own environment; undefined removes a variable */
    env: Readonly<Record<string, string | undefined>> = {},
    via?: string,
    stdio: "pipe" | "ignore" = "pipe",
  ): ChildProcess {
    const [file, args] = via === undefined ? [process.execPath, [CLI, "up", ...extraArgs]] : [via, ["up", ...extraArgs]];
    const upEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", VIGIL_TEST_STACK: this.dir, ...env };
    for (const [key, value] of Object.entries(upEnv)) if (value === undefined) delete upEnv[key];
    const up = spawn(file, args, { cwd: this.dir, env: upEnv, stdio: ["ignore", stdio, stdio] });
    up.stdout?.on("data", (d: Buffer) => (this.stdout += d.toString()));
    up.stderr?.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exitPromise = new Promise((res) => up.on("exit", (code) => res(code)));
    this.up = up;
    return up;
  }

  exited(): Promise<number | null> {
    if (!this.exitPromise) throw new Error("not started");
    return this.exitPromise;
  }

  /** The status document from status.json (null while it is not there yet). */
  async statusFile(): Promise<StatusDocument | null> {
    try {
      return JSON.parse(await readFile(join(this.stateDir, "status.json"), "utf8")) as StatusDocument;
    } catch {
      return null;
    }
  }

  async service(name: string): Promise<ServiceDoc | undefined> {
    // the state dir exists once up has made it; from then on its changes wake the waits
    changes.add(this.stateDir);
    const doc = await this.statusFile();
    const s = doc?.services.find((x) => x.name === name);
    if (s?.pid) this.seenPids.add(s.pid);
    return s;
  }

  /**
   * Waits until `predicate` holds for the service in status.json, looking again each time the supervisor
   * rewrites it (on every event, and within a second of a beat), not on a clock of its own.
   */
  async waitFor(name: string, predicate: (s: ServiceDoc) => boolean, what: string, timeoutMs = 15_000): Promise<ServiceDoc> {
    let last: ServiceDoc | undefined;
    await waitUntil(async () => {
      last = await this.service(name);
      return last !== undefined && predicate(last);
    }, () => `${name} ${what}; last seen ${JSON.stringify(last)}\nstderr:\n${this.stderr}`, timeoutMs);
    return last as ServiceDoc;
  }

  run(args: readonly string[], timeoutMs?: number): Promise<CliResult> {
    return vigil(args, this.dir, timeoutMs);
  }

  /** Ends the supervisor (SIGKILL if it must) and every process it ever ran; removes the directory. */
  async cleanup(): Promise<void> {
    const up = this.up;
    if (up?.pid && isRunning(up.pid)) {
      up.kill("SIGTERM");
      const done = await Promise.race([this.exited(), sleep(15_000).then(() => "timeout" as const)]);
      if (done === "timeout") up.kill("SIGKILL");
    }
    for (const pid of this.seenPids) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    // whatever a failing test let escape: never left to the next test
    for (const pid of this.leftovers()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    changes.remove(this.stateDir);
    changes.remove(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits until `check` is true: it is looked at once, then again whenever a file changes in the directory
 * of a stack of this test (status.json rewritten on every event, a pid file a child wrote), and at least
 * every 100 ms for what no file shows (a process that ended). Fails with `what` after the timeout.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${typeof what === "string" ? what : what()}`);
    await changes.next(Math.min(FALLBACK_MS, Math.max(1, deadline - Date.now())));
  }
}

const FALLBACK_MS = 100;

/** Watches the directories of the live stacks; next() resolves at the next change in any, or after ms. */
class Changes {
  readonly #watchers = new Map<string, FSWatcher>();
  #waiting: (() => void)[] = [];

  add(dir: string): void {
    if (this.#watchers.has(dir)) return;
    try {
      const watcher = watch(dir, () => this.#changed());
      watcher.on("error", () => undefined);
      this.#watchers.set(dir, watcher);
    } catch {
      // not there yet (a state dir before up made it): the fallback covers it
    }
  }

  remove(dir: string): void {
    this.#watchers.get(dir)?.close();
    this.#watchers.delete(dir);
  }

  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#waiting.push(done);
    });
  }

  #changed(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }
}

const changes = new Changes();

/** For a test file: a factory of stacks, each cleaned up (processes ended, directory removed) after its test. */
export function useStacks(): (manifest: string, files?: Record<string, string>) => Promise<Stack> {
  const stacks: Stack[] = [];
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((s) => s.cleanup()));
  });
  return async (manifest, files) => {
    const s = await Stack.create(manifest, files);
    stacks.push(s);
    return s;
  };
}
