// Process trees for tests that run real processes: each group started here is SIGKILLed after its test,
// and waits poll /proc instead of sleeping a fixed time.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach } from "vitest";
import { descendants, listPids, readProcStat } from "../../src/runtime/process/proc.js";

export type GroupLeader = ChildProcess & { pid: number };

export interface Processes {
  /** `sh -c script` as the leader of its own process group, with env added to the test's environment */
  spawnGroup(script: string, env?: Readonly<Record<string, string>>): GroupLeader;
  /** a group the test did not spawn itself (a descendant that called setsid), to be killed too */
  adoptGroup(pgid: number): void;
  /** one process the test did not spawn itself (a pid a script wrote down), to be killed too */
  adopt(pid: number): void;
}

/** For a test file: groups and processes spawned or adopted through it are SIGKILLed after each test. */
export function useProcesses(): Processes {
  const targets: number[] = [];
  afterEach(() => {
    for (const target of targets.splice(0)) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
  return {
    spawnGroup(script, env = {}) {
      const child = spawn("sh", ["-c", script], { detached: true, stdio: "ignore", env: { ...process.env, ...env } });
      if (child.pid === undefined) throw new Error("spawn failed");
      targets.push(-child.pid);
      return child as GroupLeader;
    },
    adoptGroup(pgid) {
      targets.push(-pgid);
    },
    adopt(pid) {
      targets.push(pid);
    },
  };
}

/** Polls probe every 10 ms until it gives a value other than undefined or false, and returns it. */
export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

/** Waits until pid has at least count descendants, and returns them. */
export function waitForDescendants(pid: number, count: number): Promise<number[]> {
  return waitFor(() => {
    const found = descendants(pid);
    return found.length >= count ? found : undefined;
  });
}

/** In /proc and neither a zombie nor dead. */
export function isRunning(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== null && stat.state !== "Z" && stat.state !== "X";
}

export function isGone(pid: number): boolean {
  return !isRunning(pid);
}

/** Live processes (zombies excluded) whose environment holds the entry `entry` ("KEY=value"). */
export function processesWithEnv(entry: string): number[] {
  const wanted = Buffer.from(`${entry}\0`);
  return listPids().filter((pid) => {
    if (pid === process.pid || !isRunning(pid)) return false;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`);
      const at = environ.indexOf(wanted);
      return at === 0 || (at > 0 && environ[at - 1] === 0);
    } catch {
      return false;
    }
  });
}
