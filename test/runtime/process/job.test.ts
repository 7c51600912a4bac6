import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Job } from "../../../src/runtime/process/job.js";
import { takeSnapshot, treeSnapshot } from "../../../src/runtime/process/proc-snapshot.js";
import { holdersOf, readCommandLine, readEnvironToken } from "../../../src/runtime/process/token-scan.js";
import { isSameProcess, processes } from "../../../src/runtime/process/table.js";
import { isGone, isRunning, useProcesses, waitFor } from "../../support/processes.js";

const { adopt } = useProcesses();
/** a token of its own for each job, so that no other test's processes can answer to it */
let TOKEN = "";
let dir = "";

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = "";
});

/** `sh -c script` as the leader of its own group with VIGIL_TOKEN set; every pid it writes down is adopted for cleanup */
async function startJob(script: string, pidFiles: readonly string[]): Promise<{ job: Job; pids: Record<string, number>; child: ChildProcess }> {
  dir = await mkdtemp(join(tmpdir(), "vigil-job-"));
  TOKEN = randomBytes(16).toString("hex");
  const child = spawn("sh", ["-c", script], { cwd: dir, detached: true, stdio: "ignore", env: { ...process.env, VIGIL_TOKEN: TOKEN } });
  adopt(-child.pid!);
  adopt(child.pid!);
  const pids: Record<string, number> = {};
  for (const file of pidFiles) {
    pids[file] = await waitFor(() => Number(readText(join(dir, file)).trim()) || undefined, 5000);
    adopt(pids[file]!);
  }
  return { job: new Job(TOKEN, child.pid!, null), pids, child };
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

describe("Job", () => {
  it("counts a descendant that left the group with setsid, and stops it with the rest", async () => {
    const { job, pids } = await startJob("setsid sleep 1001 & echo $! > esc.pid; exec sleep 1002", ["esc.pid"]);
    // $! is known before setsid has made its new session and exec'd sleep
    await waitFor(() => readText(`/proc/${pids["esc.pid"]}/cmdline`).startsWith("sleep\0"));
    const members = job.members(takeSnapshot(processes().list())).map((m) => m.pid);
    expect(members).toEqual(expect.arrayContaining([job.pid, pids["esc.pid"]]));
    expect(job.describe(takeSnapshot(processes().list())).find((m) => m.pid === pids["esc.pid"])).toMatchObject({ escaped: true, command: "sleep 1001" });
    job.stop("SIGTERM", takeSnapshot(processes().list()));
    await waitFor(() => isGone(job.pid) && isGone(pids["esc.pid"]!));
  });

  it("finds an escaped descendant from the job's own tree, without reading the whole table", async () => {
    const { job, pids } = await startJob("sh -c 'setsid sleep 1008 & echo $! > esc.pid; exec sleep 1009' & exec sleep 1010", ["esc.pid"]);
    await waitFor(() => readText(`/proc/${pids["esc.pid"]}/cmdline`).startsWith("sleep\0"));
    const tree = treeSnapshot(job.roots());
    if (tree === null) return; // a kernel without /proc/PID/task/TID/children: the whole table is read instead
    // the main sleep, the inner shell turned sleep 1009, and the escaped sleep 1008: nothing else
    expect(tree.byPid.size).toBe(3);
    expect(job.members(tree).map((m) => m.pid)).toEqual(expect.arrayContaining([job.pid, pids["esc.pid"]]));
    job.stop("SIGTERM", tree);
    await waitFor(() => isGone(job.pid) && isGone(pids["esc.pid"]!));
  });

  it("sends SIGCONT after the stop signal, so a stopped member can act on it", async () => {
    const { job } = await startJob("exec sleep 1003", []);
    process.kill(job.pid, "SIGSTOP");
    await waitFor(() => readText(`/proc/${job.pid}/stat`).split(") ")[1]?.startsWith("T"));
    job.stop("SIGTERM", takeSnapshot(processes().list()));
    await waitFor(() => isGone(job.pid));
  });

  it("keeps a member it was told of after its parent is gone, and tells a reused pid from it", async () => {
    const { job, pids, child } = await startJob("setsid sleep 1004 & echo $! > esc.pid; exec sleep 0.2", ["esc.pid"]);
    const esc = pids["esc.pid"]!;
    await waitFor(() => readText(`/proc/${esc}/cmdline`).startsWith("sleep\0"));
    // reaped, as a supervisor's child is by the time its exit is reported
    if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once("exit", resolve));
    // the escaped one is no descendant now and not in the group: only what the job was told keeps it
    expect(job.mayLive(isSameProcess)).toBe(false);
    job.adopt(holdersOf(processes(), new Map([[TOKEN, 0]]), job.pid).get(0) ?? []);
    expect(job.mayLive(isSameProcess)).toBe(true);
    expect(job.members(takeSnapshot(processes().list())).map((m) => m.pid)).toEqual([esc]);
    job.kill(takeSnapshot(processes().list()));
    await waitFor(() => isGone(esc));
    // a turn later: the portable table hands out one list a turn, and this turn's predates the kill
    await new Promise((resolve) => setImmediate(resolve));
    expect(job.mayLive(isSameProcess)).toBe(false);
  });
});

describe("token scan", () => {
  it("reads a process's VIGIL_TOKEN and command line", async () => {
    const { job } = await startJob("exec sleep 1005", []);
    await waitFor(() => readCommandLine(job.pid) === "sleep 1005");
    expect(readEnvironToken(job.pid)).toBe(TOKEN);
    expect(readEnvironToken(process.pid)).toBe(process.env["VIGIL_TOKEN"] ?? null);
    expect(readCommandLine(2 ** 22 + 1)).toBe("?");
    // and through the process table in use, whichever it is
    expect(processes().envOf([job.pid], "VIGIL_TOKEN").get(job.pid)).toBe(TOKEN);
    expect(processes().commandLine(job.pid)).toBe("sleep 1005");
  });

  it("finds a double-forked daemon by its token", async () => {
    const { job, pids } = await startJob('sh -c "setsid sleep 1006 & echo \\$! > d.pid"; exec sleep 1007', ["d.pid"]);
    // $! is known before setsid and sleep are exec'd, and in the middle of an exec /proc/PID/environ can read empty
    await waitFor(() => readText(`/proc/${pids["d.pid"]}/cmdline`).startsWith("sleep\0"));
    expect((holdersOf(processes(), new Map([[TOKEN, 0]]), job.pid).get(0) ?? []).map((p) => p.pid)).toEqual(expect.arrayContaining([pids["d.pid"]]));
    expect(isRunning(pids["d.pid"]!)).toBe(true);
  });

  it("looks for several tokens in one pass and passes over the processes it is told to skip", async () => {
    const { job, pids } = await startJob('sh -c "setsid sleep 1011 & echo \\$! > d.pid"; exec sleep 1012', ["d.pid"]);
    const daemon = pids["d.pid"]!;
    await waitFor(() => readText(`/proc/${daemon}/cmdline`).startsWith("sleep\0"));
    const found = holdersOf(processes(), new Map([[TOKEN, "a"], ["f".repeat(32), "b"]]), job.pid);
    expect(found.get("a")?.map((p) => p.pid)).toEqual(expect.arrayContaining([daemon]));
    expect(found.has("b")).toBe(false);
    expect(holdersOf(processes(), new Map([[TOKEN, "a"]]), job.pid, new Set([daemon])).get("a")?.map((p) => p.pid) ?? []).not.toContain(daemon);
  });
});
