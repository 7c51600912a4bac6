// One supervisor per state dir: STATE_DIR/vigil.lock names the holder by pid and start time (and, where
// start times are whole seconds, by its command line too: a pid reused within that second is told apart).
import { randomBytes } from "node:crypto";
import { unlinkSync } from "node:fs";
import { link, mkdir, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isSameProcess, processes, type StartClock } from "../process/table.js";
import { readStateFile, readStateFileSync, writeNewStateFile } from "./state-dir.js";

export const LOCK_FILE = "vigil.lock";

export interface LockHolder {
  readonly pid: number;
  readonly startTime: number;
  /** the clock of startTime (process/table.ts); absent for clock ticks since boot (/proc) */
  readonly startClock?: StartClock;
  /** the holder's command line, where start times are whole seconds */
  readonly command?: string;
  /** distinguishes two acquisitions by the same process */
  readonly token?: string;
}

export interface Lock {
  readonly path: string;
  readonly holder: LockHolder;
  /** removes the lock file if it is still ours */
  release(): Promise<void>;
  /** the same, for process "exit" handlers */
  releaseSync(): void;
}

export class LockError extends Error {
  override readonly name = "LockError";
  constructor(
    readonly holderPid: number,
    readonly stateDir: string,
  ) {
    super(`another vigil (pid ${holderPid}) is already supervising this stack (${stateDir})`);
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as { pid?: unknown; startTime?: unknown; startClock?: unknown; command?: unknown; token?: unknown };
    const pid = Number(value.pid);
    const startTime = Number(value.startTime);
    if (!Number.isInteger(pid) || pid <= 0 || !Number.isSafeInteger(startTime)) return null;
    return {
      pid,
      startTime,
      ...(value.startClock === "seconds" ? { startClock: "seconds" as const } : {}),
      ...(typeof value.command === "string" ? { command: value.command } : {}),
      ...(typeof value.token === "string" ? { token: value.token } : {}),
    };
  } catch {
    return null;
  }
}

/** The lock's text; null when there is none. Never through a symbolic link, nor another user's file (StateDirError). */
async function readText(path: string): Promise<string | null> {
  try {
    return await readStateFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

async function ignoreMissing(op: Promise<unknown>): Promise<void> {
  try {
    await op;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** The recorded holder, whether or not it still runs; null without a readable lock file. */
export async function readLockHolder(stateDir: string): Promise<(LockHolder & { alive: boolean }) | null> {
  const text = await readText(join(stateDir, LOCK_FILE));
  const holder = text === null ? null : parseHolder(text);
  return holder && { ...holder, alive: holds(holder) };
}

/**
 * Replaces a stale lock with ours. Only the holder of LOCK.takeover may do so, and it checks again
 * under that guard, so two racers that both saw the stale lock cannot both replace it.
 */
async function replaceStale(lockPath: string, tmp: string, holder: LockHolder): Promise<boolean> {
  const guard = `${lockPath}.takeover`;
  try {
    await link(tmp, guard);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const text = await readText(guard);
    const guardHolder = text === null ? null : parseHolder(text);
    // a guard left by a supervisor that died during its takeover
    if (text !== null && !(guardHolder && holds(guardHolder))) {
      await ignoreMissing(unlink(guard));
    }
    return false;
  }
  try {
    const text = await readText(lockPath);
    const current = text === null ? null : parseHolder(text);
    if (current && holds(current)) return false;
    await rename(tmp, lockPath);
    return true;
  } finally {
    if (isOurs(await readText(guard), holder)) await ignoreMissing(unlink(guard));
  }
}

export async function acquireLock(stateDir: string): Promise<Lock> {
  const table = processes();
  const self = table.read(process.pid);
  if (!self) throw new Error(`cannot read vigil's own process (pid ${process.pid}) from the ${table.backend} process table`);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const lockPath = join(stateDir, LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    startTime: self.startTime,
    ...(table.startClock === "ticks" ? {} : { startClock: table.startClock, command: table.commandLine(process.pid) }),
    token: randomBytes(8).toString("hex"),
  };
  const tmp = `${lockPath}.${holder.pid}.${holder.token}.tmp`;
  await writeNewStateFile(tmp, `${JSON.stringify(holder)}\n`);
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        // link fails if the path exists, so of two racers exactly one puts a complete file in place
        await link(tmp, lockPath);
        return makeLock(lockPath, holder);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const text = await readText(lockPath);
      if (text === null) continue;
      const current = parseHolder(text);
      if (current && holds(current)) throw new LockError(current.pid, stateDir);
      if (await replaceStale(lockPath, tmp, holder)) return makeLock(lockPath, holder);
      await sleep(2 + Math.random() * 8);
    }
    throw new Error(`could not take ${lockPath}: it keeps changing under contention`);
  } finally {
    await ignoreMissing(unlink(tmp));
  }
}

/** Whether the recorded holder still runs: the same pid, start time and (where recorded) command line. */
function holds(holder: LockHolder): boolean {
  if (!isSameProcess(holder.pid, holder.startTime, holder.startClock ?? "ticks")) return false;
  return holder.command === undefined || processes().commandLine(holder.pid) === holder.command;
}

function isOurs(text: string | null, holder: LockHolder): boolean {
  const current = text === null ? null : parseHolder(text);
  return current !== null && current.pid === holder.pid && current.token === holder.token;
}

function makeLock(path: string, holder: LockHolder): Lock {
  return {
    path,
    holder,
    async release() {
      if (isOurs(await readText(path), holder)) await ignoreMissing(unlink(path));
    },
    releaseSync() {
      try {
        if (isOurs(readStateFileSync(path), holder)) unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    },
  };
}
