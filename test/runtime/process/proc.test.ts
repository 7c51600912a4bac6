import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  descendants,
  isAlive,
  isSameProcess,
  parseProcStat,
  processGroupMembers,
  readProcStat,
  scanProcesses,
} from "../../../src/runtime/process/proc.js";
import { useProcesses, waitFor, waitForDescendants } from "../../support/processes.js";

const { spawnGroup, adoptGroup } = useProcesses();

describe("parseProcStat", () => {
  it("splits at the last ')' so a comm with spaces and parens parses", () => {
    const fields = ["S", "7", "42", "42", ...Array.from({ length: 15 }, () => "0"), "987654", "5"];
    expect(fields[19]).toBe("987654");
    const stat = parseProcStat(`42 (we ird) ) name) ${fields.join(" ")}\n`);
    expect(stat).toEqual({ pid: 42, state: "S", ppid: 7, pgid: 42, session: 42, startTime: 987654 });
  });

  it("returns null for malformed text", () => {
    expect(parseProcStat("")).toBeNull();
    expect(parseProcStat("12 (x) S")).toBeNull();
  });
});

describe("readProcStat", () => {
  it("reads the test process itself", () => {
    const stat = readProcStat(process.pid);
    expect(stat?.pid).toBe(process.pid);
    expect(stat?.ppid).toBe(process.ppid);
    expect(stat?.startTime).toBeGreaterThan(0);
    expect(isAlive(process.pid)).toBe(true);
    expect(isSameProcess(process.pid, stat!.startTime)).toBe(true);
    expect(isSameProcess(process.pid, 1)).toBe(false);
  });

  it("returns null and not alive for a process that is gone", async () => {
    const child = spawn("true", { stdio: "ignore" });
    await new Promise((resolve) => child.on("exit", resolve));
    await waitFor(() => readProcStat(child.pid!) === null);
    expect(isAlive(child.pid!)).toBe(false);
    expect(readProcStat(-1)).toBeNull();
  });

  it("counts a zombie as not alive", async () => {
    // sleep inherits the short-lived child and never waits for it
    const child = spawnGroup("true & exec sleep 1000");
    const zombie = await waitFor(() => scanProcesses().find((s) => s.ppid === child.pid && s.state === "Z"));
    expect(readProcStat(zombie.pid)?.state).toBe("Z");
    expect(isAlive(zombie.pid)).toBe(false);
  });
});

describe("process groups and descendants", () => {
  it("finds the members of a group and the descendants of its leader", async () => {
    const child = spawnGroup("sleep 1000 & sleep 1000 & wait");
    const kids = await waitForDescendants(child.pid, 2);
    expect(processGroupMembers(child.pid).sort()).toEqual([child.pid, ...kids].sort());
    for (const kid of kids) expect(readProcStat(kid)?.ppid).toBe(child.pid);
  });

  it("follows descendants that left the group", async () => {
    const child = spawnGroup("setsid sleep 1000 & wait");
    const [kid] = await waitFor(() => {
      const found = descendants(child.pid);
      return found.length === 1 && readProcStat(found[0]!)?.pgid !== child.pid ? found : undefined;
    });
    adoptGroup(kid!);
    expect(processGroupMembers(child.pid)).toEqual([child.pid]);
  });
});
