import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChildRegistry, reapOrphans, type ChildEntry } from "../../../src/runtime/process/orphans.js";
import type { WriteReport } from "../../../src/runtime/state/problems.js";
import { isAlive, processGroupMembers } from "../../../src/runtime/process/proc.js";
import { processes } from "../../../src/runtime/process/table.js";
import { StateDirError } from "../../../src/runtime/state/state-dir.js";
import { isGone, useProcesses, waitFor, waitForDescendants } from "../../support/processes.js";

let stateDir: string;
// records as the process table that runs the tests writes them: /proc's clock ticks, or ps's seconds
const table = processes();
const readProcStat = (pid: number) => table.read(pid);
const clock: Partial<ChildEntry> = table.startClock === "ticks" ? {} : { startClock: table.startClock };
const { spawnGroup, adopt } = useProcesses();

/** the token a spawn would have put in its child's environment */
/** each test's own token: a process another test left a moment ago must not prove a record of this one */
let TOKEN = "";
let AS_CHILD: { VIGIL_TOKEN: string } = { VIGIL_TOKEN: "" };

function entryFor(service: string, pid: number, overrides: Partial<ChildEntry> = {}): ChildEntry {
  return {
    service,
    pid,
    pgid: pid,
    // read only when the test gives none: ps (the portable table) costs tens of milliseconds a call
    startTime: overrides.startTime ?? readProcStat(pid)?.startTime ?? 1,
    stopSignal: "SIGTERM",
    stopTimeoutMs: 200,
    token: TOKEN,
    ...clock,
    ...overrides,
  };
}

async function writeChildren(entries: ChildEntry[]): Promise<void> {
  await writeFile(join(stateDir, "children.json"), JSON.stringify({ children: entries }));
}

/** A shell that ignores SIGTERM, with a grandchild that ignores it too. */
async function spawnStubborn(): Promise<{ pid: number; grandchild: number; token: string }> {
  // a token of its own, as every spawn has
  const token = randomBytes(16).toString("hex");
  const child = spawnGroup("trap '' TERM; sleep 1000 & wait", { VIGIL_TOKEN: token });
  const [grandchild] = await waitForDescendants(child.pid, 1);
  return { pid: child.pid, grandchild: grandchild!, token };
}

beforeEach(async () => {
  TOKEN = randomBytes(16).toString("hex");
  AS_CHILD = { VIGIL_TOKEN: TOKEN };
  stateDir = await mkdtemp(join(tmpdir(), "vigil-orphans-"));
});

afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe("ChildRegistry", () => {
  it("keeps children.json equal to the entries after each flush", async () => {
    const registry = new ChildRegistry(stateDir);
    registry.add(entryFor("api", 1001, { startTime: 5 }));
    registry.add(entryFor("db", 1002, { startTime: 6 }));
    await registry.flush();
    const read = async () => JSON.parse(await readFile(join(stateDir, "children.json"), "utf8")).children;
    expect((await read()).map((e: ChildEntry) => e.service)).toEqual(["api", "db"]);
    registry.remove(1001);
    await registry.flush();
    expect(await read()).toEqual([entryFor("db", 1002, { startTime: 6 })]);
  });

  it("coalesces a burst of changes and leaves no temp files", async () => {
    const registry = new ChildRegistry(stateDir);
    for (let i = 0; i < 200; i++) registry.add(entryFor(`s${i}`, 2000 + i, { startTime: i }));
    for (let i = 0; i < 100; i++) registry.remove(2000 + i);
    await registry.flush();
    const children = JSON.parse(await readFile(join(stateDir, "children.json"), "utf8")).children;
    expect(children).toHaveLength(100);
    expect(children[0].service).toBe("s100");
    expect(await readdir(stateDir)).toEqual(["children.json"]);
  });

  it("clear removes the file", async () => {
    const registry = new ChildRegistry(stateDir);
    registry.add(entryFor("api", 1001, { startTime: 5 }));
    await registry.clear();
    expect(await readdir(stateDir)).toEqual([]);
    expect(registry.entries()).toEqual([]);
  });

  it("reports a rewrite that fails, leaves no temp file, tries again by itself, and reports the recovery", async () => {
    const outcomes: string[] = [];
    const report: WriteReport = { failed: (err) => outcomes.push(`failed ${(err as NodeJS.ErrnoException).code}`), succeeded: () => outcomes.push("ok") };
    // a directory where the file should be: the rename over it fails
    await mkdir(join(stateDir, "children.json"));
    const registry = new ChildRegistry(stateDir, report);
    registry.add(entryFor("api", 1001, { startTime: 5 }));
    await waitFor(() => outcomes.includes("failed EISDIR"));
    expect(await readdir(stateDir)).toEqual(["children.json"]);
    await rm(join(stateDir, "children.json"), { recursive: true });
    await waitFor(() => outcomes.at(-1) === "ok", 5000);
    expect(JSON.parse(await readFile(join(stateDir, "children.json"), "utf8")).children).toHaveLength(1);
    expect(await readdir(stateDir)).toEqual(["children.json"]);
    await registry.clear();
  });
});

describe("reapOrphans", () => {
  it("ends a child recorded by the other process backend (start times of another clock) once its token proves it", async () => {
    const { pid, grandchild, token } = await spawnStubborn();
    const other: Partial<ChildEntry> = table.startClock === "ticks" ? { startClock: "seconds" } : { startClock: undefined };
    await writeChildren([entryFor("worker", pid, { token, startTime: 1, stopSignal: "SIGKILL", ...other })]);
    expect(await reapOrphans(stateDir)).toEqual([{ pid, service: "worker", outcome: "exited" }]);
    expect(isGone(pid)).toBe(true);
    expect(isGone(grandchild)).toBe(true);
  });

  it("ends a recorded child that ignores SIGTERM together with its grandchild", async () => {
    const { pid, grandchild, token } = await spawnStubborn();
    await writeChildren([entryFor("worker", pid, { token })]);
    const messages: string[] = [];
    const results = await reapOrphans(stateDir, (m) => messages.push(m));
    expect(results).toEqual([{ pid, service: "worker", outcome: "killed" }]);
    expect(isGone(pid)).toBe(true);
    expect(isGone(grandchild)).toBe(true);
    expect(processGroupMembers(pid)).toEqual([]);
    expect(messages.join("\n")).toContain(`worker (pid ${pid})`);
    expect(await readdir(stateDir)).toEqual([]);
  });

  it("ends a child that stops on its stop signal without escalating", async () => {
    const child = spawnGroup("sleep 1000 & wait", AS_CHILD);
    await waitForDescendants(child.pid, 1);
    await writeChildren([entryFor("api", child.pid, { stopTimeoutMs: 5000 })]);
    expect(await reapOrphans(stateDir)).toEqual([{ pid: child.pid, service: "api", outcome: "exited" }]);
    expect(isGone(child.pid)).toBe(true);
  });

  it("falls back to SIGTERM when the recorded stop signal is not a signal", async () => {
    const child = spawnGroup("exec sleep 1000", AS_CHILD);
    await waitFor(() => readProcStat(child.pid));
    await writeChildren([{ ...entryFor("api", child.pid), stopSignal: "SIGBOGUS" as NodeJS.Signals, stopTimeoutMs: 5000 }]);
    expect(await reapOrphans(stateDir)).toEqual([{ pid: child.pid, service: "api", outcome: "exited" }]);
    expect(isGone(child.pid)).toBe(true);
  });

  it("ends grandchildren still in the group after the recorded leader died", async () => {
    const { pid, grandchild, token } = await spawnStubborn();
    const entry = entryFor("worker", pid, { token });
    process.kill(pid, "SIGKILL");
    await waitFor(() => isGone(pid));
    expect(isAlive(grandchild)).toBe(true);
    await writeChildren([entry]);
    expect(await reapOrphans(stateDir)).toEqual([{ pid, service: "worker", outcome: "killed" }]);
    expect(isGone(grandchild)).toBe(true);
  });

  it("leaves alone a live process that merely reused a recorded pid", async () => {
    await writeChildren([entryFor("old", process.pid, { startTime: 1, stopSignal: "SIGKILL" })]);
    expect(await reapOrphans(stateDir)).toEqual([{ pid: process.pid, service: "old", outcome: "pid-reused" }]);
    expect(isAlive(process.pid)).toBe(true);
  });

  it("leaves alone another live process whose start time differs from the record", async () => {
    const child = spawnGroup("exec sleep 1000");
    const startTime = await waitFor(() => readProcStat(child.pid)?.startTime);
    await writeChildren([entryFor("old", child.pid, { startTime: startTime - 1, stopSignal: "SIGKILL" })]);
    expect(await reapOrphans(stateDir)).toEqual([{ pid: child.pid, service: "old", outcome: "pid-reused" }]);
    expect(isAlive(child.pid)).toBe(true);
  });

  it("reports entries whose processes are gone", async () => {
    const child = spawn("true", { stdio: "ignore", detached: true });
    await new Promise((resolve) => child.on("exit", resolve));
    await writeChildren([entryFor("done", child.pid!, { startTime: 7 })]);
    expect(await reapOrphans(stateDir)).toEqual([{ pid: child.pid, service: "done", outcome: "gone" }]);
  });

  it("handles several entries at once, ending only the real leftovers", async () => {
    const first = await spawnStubborn();
    const second = await spawnStubborn();
    await writeChildren([
      entryFor("a", first.pid, { token: first.token }),
      entryFor("reused", process.pid, { startTime: 1 }),
      entryFor("b", second.pid, { token: second.token }),
    ]);
    const results = await reapOrphans(stateDir);
    expect(results.map((r) => r.outcome)).toEqual(["killed", "pid-reused", "killed"]);
    expect([first.pid, first.grandchild, second.pid, second.grandchild].every(isGone)).toBe(true);
    expect(isAlive(process.pid)).toBe(true);
  });

  it("returns nothing without a children file and survives a corrupt one", async () => {
    expect(await reapOrphans(stateDir)).toEqual([]);
    await writeFile(join(stateDir, "children.json"), "{ cut short");
    const messages: string[] = [];
    expect(await reapOrphans(stateDir, (m) => messages.push(m))).toEqual([]);
    expect(messages).toHaveLength(1);
    expect(await readdir(stateDir)).toEqual([]);
  });
  it("leaves alone a live process whose record has no token, however well its start time matches", async () => {
    const child = spawnGroup("exec sleep 1000", AS_CHILD);
    await waitFor(() => readProcStat(child.pid));
    const { token: _, ...untokened } = entryFor("old", child.pid, { stopSignal: "SIGKILL" });
    await writeChildren([untokened]);
    const messages: string[] = [];
    expect(await reapOrphans(stateDir, (m) => messages.push(m))).toEqual([{ pid: child.pid, service: "old", outcome: "untrusted" }]);
    expect(isAlive(child.pid)).toBe(true);
    expect(messages).toEqual([`not ending pid ${child.pid} (old in children.json): its record has no token to prove it is a child of vigil`]);
  });

  it("leaves alone a live process whose environment does not hold the recorded token", async () => {
    const stranger = spawnGroup("exec sleep 1000");
    const other = spawnGroup("exec sleep 1000", { VIGIL_TOKEN: "another" });
    await waitFor(() => readProcStat(stranger.pid) && readProcStat(other.pid));
    await writeChildren([entryFor("a", stranger.pid, { stopSignal: "SIGKILL" }), entryFor("b", other.pid, { stopSignal: "SIGKILL" })]);
    const messages: string[] = [];
    const results = await reapOrphans(stateDir, (m) => messages.push(m));
    expect(results.map((r) => r.outcome)).toEqual(["untrusted", "untrusted"]);
    expect(isAlive(stranger.pid) && isAlive(other.pid)).toBe(true);
    expect(messages.join("\n")).toMatch(/the process does not hold its token/);
  });

  it("leaves alone what is left of a group whose members do not hold the token", async () => {
    // the leader had the token; the member left in the group did not get it
    const child = spawnGroup("env -u VIGIL_TOKEN sleep 1000 & wait", AS_CHILD);
    const [member] = await waitForDescendants(child.pid, 1);
    // until it runs sleep, the member is the shell's fork or env, which still hold the token
    await waitFor(() => readFileSync(`/proc/${member}/comm`, "utf8").trim() === "sleep");
    const entry = entryFor("worker", child.pid, { stopSignal: "SIGKILL" });
    process.kill(child.pid, "SIGKILL");
    await waitFor(() => isGone(child.pid));
    await writeChildren([entry]);
    expect(await reapOrphans(stateDir)).toEqual([{ pid: child.pid, service: "worker", outcome: "untrusted" }]);
    expect(isAlive(member!)).toBe(true);
  });

  it("refuses a children.json that is a symbolic link, and reads nothing through it", async () => {
    const elsewhere = join(stateDir, "..", `${stateDir.split("/").at(-1)}-elsewhere.json`);
    await writeFile(elsewhere, JSON.stringify({ children: [entryFor("x", process.pid)] }));
    try {
      await symlink(elsewhere, join(stateDir, "children.json"));
      await expect(reapOrphans(stateDir)).rejects.toThrow(StateDirError);
      await expect(reapOrphans(stateDir)).rejects.toThrow(/children\.json is a symbolic link/);
    } finally {
      await rm(elsewhere, { force: true });
    }
  });
});

describe("reapOrphans and escaped processes", () => {
  it("ends a daemon that double-forked out of the recorded child's group, found by its token", async () => {
    const token = randomBytes(16).toString("hex");
    const child = spawnGroup(`sh -c "setsid sleep 1007 & echo \\$! > ${stateDir}/daemon.pid"; exec sleep 1008`, { VIGIL_TOKEN: token });
    const daemon = await waitFor(() => Number(readPid(join(stateDir, "daemon.pid"))) || undefined);
    adopt(daemon);
    // $! is known before the background process has called setsid
    await waitFor(() => readProcStat(daemon)?.pgid === daemon);
    await writeChildren([entryFor("web", child.pid, { token })]);
    expect(await reapOrphans(stateDir)).toEqual([{ pid: child.pid, service: "web", outcome: "exited" }]);
    expect(isGone(daemon)).toBe(true);
    expect(isGone(child.pid)).toBe(true);
  });
});

function readPid(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}
