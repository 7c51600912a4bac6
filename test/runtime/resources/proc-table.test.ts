import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { readProcStat } from "../../../src/runtime/process/proc.js";
import { kernelPageBytes, parseProcUsage, ProcTable } from "../../../src/runtime/resources/proc-table.js";

async function waitForGone(pid: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (readProcStat(pid) !== null) {
    if (Date.now() > deadline) throw new Error(`${pid} still in /proc`);
    await sleep(10);
  }
}

const bytes = (text: string) => Buffer.from(text, "latin1");
// fields 3..52 of a real line, with utime 7, stime 3, cutime 20, cstime 5, starttime 987654, rss 235
const TAIL =
  "S 1 4200 4200 0 -1 4194560 97 0 0 0 7 3 20 5 20 0 1 0 987654 2355200 235 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0";

describe("parseProcUsage", () => {
  it("reads the ids, ticks, start time and resident pages", () => {
    expect(parseProcUsage(bytes(`4321 (node) ${TAIL}\n`))).toEqual({
      pid: 4321,
      state: "S",
      ppid: 1,
      pgid: 4200,
      session: 4200,
      cpuTicks: 10,
      reapedCpuTicks: 25,
      startTime: 987654,
      rssPages: 235,
    });
  });

  it("splits at the last ')' so a comm with spaces and parens parses", () => {
    expect(parseProcUsage(bytes(`4321 (we ird) ) x) ${TAIL}`))?.rssPages).toBe(235);
  });

  it("reads only the given length of a reused buffer", () => {
    const buffer = Buffer.alloc(1024, "9");
    const line = bytes(`77 (sh) ${TAIL}`);
    line.copy(buffer);
    expect(parseProcUsage(buffer, line.length)?.pid).toBe(77);
  });

  it("returns null for malformed or cut-off text", () => {
    expect(parseProcUsage(bytes(""))).toBeNull();
    expect(parseProcUsage(bytes("12 (x) S"))).toBeNull();
    expect(parseProcUsage(bytes(`12 (x) ${TAIL.slice(0, 30)}`))).toBeNull();
  });
});

describe("ProcTable", () => {
  const tables: ProcTable[] = [];
  afterEach(() => {
    for (const t of tables.splice(0)) t.close();
  });

  it("agrees with readProcStat about this process", async () => {
    const table = new ProcTable();
    tables.push(table);
    const self = (await table.scan()).find((p) => p.pid === process.pid);
    const stat = readProcStat(process.pid)!;
    expect(self).toMatchObject({ pid: stat.pid, ppid: stat.ppid, pgid: stat.pgid, startTime: stat.startTime });
    expect(self!.rssPages).toBeGreaterThan(0);
  });

  it("keeps descriptors for watched processes only, and none for the dead", async () => {
    const table = new ProcTable();
    tables.push(table);
    const child = spawn("sleep", ["600"], { stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    table.watch(new Set([child.pid!, process.pid]));
    expect(table.watched).toBe(2);
    expect((await table.scan()).some((p) => p.pid === child.pid)).toBe(true);
    child.kill("SIGKILL");
    await exited;
    await waitForGone(child.pid!);
    expect((await table.scan()).some((p) => p.pid === child.pid)).toBe(false);
    expect(table.watched).toBe(1);
    table.watch(new Set());
    expect(table.watched).toBe(0);
  });
});

describe("kernelPageBytes", () => {
  it("is a power of two of at least 4 KiB", () => {
    const bytes = kernelPageBytes();
    expect(bytes).toBeGreaterThanOrEqual(4096);
    expect(Math.log2(bytes) % 1).toBe(0);
  });
});
