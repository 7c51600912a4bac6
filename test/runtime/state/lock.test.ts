import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockError, acquireLock, readLockHolder } from "../../../src/runtime/state/lock.js";
import { processes } from "../../../src/runtime/process/table.js";
import { useProcesses, waitFor } from "../../support/processes.js";

let stateDir: string;
// whichever process table runs the tests: /proc's clock ticks, or ps's whole seconds
const table = processes();
const readProcStat = (pid: number) => table.read(pid);
const ownStartTime = readProcStat(process.pid)!.startTime;
const clock = table.startClock === "ticks" ? {} : { startClock: table.startClock };
const { spawnGroup } = useProcesses();

async function writeHolder(pid: number, startTime: number): Promise<void> {
  await writeFile(join(stateDir, "vigil.lock"), JSON.stringify({ pid, startTime, ...clock }));
}

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "vigil-lock-"));
});

afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe("acquireLock", () => {
  it("writes the holder's pid and start time to a 0600 lock file", async () => {
    const lock = await acquireLock(stateDir);
    const content = JSON.parse(await readFile(join(stateDir, "vigil.lock"), "utf8"));
    expect(content).toMatchObject({ pid: process.pid, startTime: ownStartTime });
    expect((await stat(lock.path)).mode & 0o777).toBe(0o600);
    expect(await readLockHolder(stateDir)).toMatchObject({ pid: process.pid, startTime: ownStartTime, alive: true });
    await lock.release();
    expect(await readdir(stateDir)).toEqual([]);
  });

  it("refuses a second holder while the first is alive, and allows one after release", async () => {
    const first = await acquireLock(stateDir);
    const second = acquireLock(stateDir);
    await expect(second).rejects.toBeInstanceOf(LockError);
    await expect(second).rejects.toThrow(
      `another vigil (pid ${process.pid}) is already supervising this stack (${stateDir})`,
    );
    await first.release();
    const third = await acquireLock(stateDir);
    await third.release();
  });

  it("refuses a lock held by another live process", async () => {
    const child = spawnGroup("exec sleep 1000");
    const startTime = await waitFor(() => readProcStat(child.pid)?.startTime);
    await writeHolder(child.pid, startTime);
    await expect(acquireLock(stateDir)).rejects.toThrow(`another vigil (pid ${child.pid})`);
    expect(await readLockHolder(stateDir)).toMatchObject({ pid: child.pid, alive: true });
  });

  it("takes over a stale lock whose holder is dead", async () => {
    const child = spawn("true", { stdio: "ignore" });
    await new Promise((resolve) => child.on("exit", resolve));
    await waitFor(() => readProcStat(child.pid!) === null);
    await writeHolder(child.pid!, 12345);
    expect(await readLockHolder(stateDir)).toMatchObject({ pid: child.pid, alive: false });
    const lock = await acquireLock(stateDir);
    expect(await readLockHolder(stateDir)).toMatchObject({ pid: process.pid, alive: true });
    await lock.release();
  });

  it("takes over a lock whose pid was reused by another process", async () => {
    await writeHolder(process.pid, 1);
    const lock = await acquireLock(stateDir);
    expect(JSON.parse(await readFile(lock.path, "utf8"))).toMatchObject({ pid: process.pid, startTime: ownStartTime });
    await lock.release();
  });

  it("takes a holder recorded in the other backend's clock to be alive while its pid lives", async () => {
    const other = table.startClock === "ticks" ? { startClock: "seconds" } : {};
    await writeFile(join(stateDir, "vigil.lock"), JSON.stringify({ pid: process.pid, startTime: 1, ...other }));
    await expect(acquireLock(stateDir)).rejects.toThrow(`another vigil (pid ${process.pid})`);
  });

  it("treats an unreadable lock file as stale", async () => {
    await writeFile(join(stateDir, "vigil.lock"), "{ not json");
    const lock = await acquireLock(stateDir);
    await lock.release();
  });

  it("lets exactly one of several racers take a stale lock", async () => {
    await writeHolder(process.pid, 1);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(stateDir)));
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(LockError);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
    expect(await readdir(stateDir)).toEqual([]);
  });

  it("recovers from a takeover guard left behind by a supervisor that died mid-takeover", async () => {
    await writeHolder(process.pid, 1);
    await writeFile(join(stateDir, "vigil.lock.takeover"), JSON.stringify({ pid: process.pid, startTime: 1, ...clock }));
    const lock = await acquireLock(stateDir);
    expect(await readdir(stateDir)).toEqual(["vigil.lock"]);
    await lock.release();
  });

  it("release leaves a lock alone that is no longer ours", async () => {
    const lock = await acquireLock(stateDir);
    await writeHolder(process.pid, 1);
    await lock.release();
    lock.releaseSync();
    expect(await readLockHolder(stateDir)).toMatchObject({ pid: process.pid, startTime: 1, alive: false });
  });

  it("reports no holder without a lock file", async () => {
    expect(await readLockHolder(stateDir)).toBeNull();
  });

  it("refuses a lock file that is a symbolic link, and reads nothing through it", async () => {
    const elsewhere = `${stateDir}-holder.json`;
    await writeFile(elsewhere, JSON.stringify({ pid: process.pid, startTime: ownStartTime }));
    try {
      await symlink(elsewhere, join(stateDir, "vigil.lock"));
      await expect(acquireLock(stateDir)).rejects.toThrow(/vigil\.lock is a symbolic link/);
    } finally {
      await rm(elsewhere, { force: true });
    }
  });
});
