import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { killTree, signalGroup, terminateGroup } from "../../src/runtime/kill.js";
import { descendants, isAlive, processGroupMembers, readProcStat } from "../../src/runtime/proc.js";
import { isGone, useProcesses, waitFor, waitForDescendants } from "../support/processes.js";

const { spawnGroup, adoptGroup } = useProcesses();

describe("signalGroup", () => {
  it("signals a live group and returns false once it is gone", async () => {
    const child = spawnGroup("exec sleep 1000");
    expect(signalGroup(child.pid, 0)).toBe(true);
    expect(signalGroup(child.pid, "SIGKILL")).toBe(true);
    await waitFor(() => isGone(child.pid));
    await waitFor(() => child.exitCode !== null || child.signalCode !== null);
    expect(signalGroup(child.pid, "SIGTERM")).toBe(false);
  });

  it("refuses pgids that would signal everything or vigil itself", () => {
    expect(() => signalGroup(0, "SIGTERM")).toThrow(RangeError);
    expect(() => signalGroup(1, "SIGTERM")).toThrow(RangeError);
    expect(() => signalGroup(readProcStat(process.pid)!.pgid, 0)).toThrow(RangeError);
  });
});

describe("killTree", () => {
  it("kills a process and its children", async () => {
    const child = spawnGroup("trap '' TERM; sleep 1000 & sleep 1000 & wait");
    const kids = await waitForDescendants(child.pid, 2);
    await killTree(child.pid);
    await waitFor(() => [child.pid, ...kids].every(isGone));
  });

  it("resolves for a process that is already gone", async () => {
    const child = spawn("true", { stdio: "ignore" });
    await new Promise((resolve) => child.on("exit", resolve));
    await expect(killTree(child.pid!)).resolves.toBeUndefined();
  });
});

describe("terminateGroup", () => {
  it("returns exited when the group stops on the first signal", async () => {
    const child = spawnGroup("sleep 1000 & wait");
    const [kid] = await waitForDescendants(child.pid, 1);
    const started = Date.now();
    const outcome = await terminateGroup({ pid: child.pid, pgid: child.pid, signal: "SIGTERM", timeoutMs: 5000 });
    expect(outcome).toBe("exited");
    expect(Date.now() - started).toBeLessThan(4000);
    expect(isGone(child.pid) && isGone(kid!)).toBe(true);
  });

  it("SIGKILLs a group that ignores SIGTERM after the timeout, leaving nothing behind", async () => {
    const child = spawnGroup("trap '' TERM; sleep 1000 & wait");
    const [kid] = await waitForDescendants(child.pid, 1);
    const started = Date.now();
    const outcome = await terminateGroup({ pid: child.pid, pgid: child.pid, signal: "SIGTERM", timeoutMs: 300 });
    expect(outcome).toBe("killed");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(isGone(child.pid)).toBe(true);
    expect(isGone(kid!)).toBe(true);
    expect(processGroupMembers(child.pid)).toEqual([]);
  });

  it("also ends a descendant that moved to its own session", async () => {
    const child = spawnGroup("trap '' TERM; setsid sh -c 'trap \"\" TERM; sleep 1000' & wait");
    const kids = await waitFor(() => {
      const found = descendants(child.pid);
      return found.length >= 2 && found.some((pid) => readProcStat(pid)?.pgid !== child.pid) ? found : undefined;
    });
    for (const kid of kids) adoptGroup(readProcStat(kid)?.pgid ?? kid);
    const outcome = await terminateGroup({ pid: child.pid, pgid: child.pid, signal: "SIGTERM", timeoutMs: 200 });
    expect(outcome).toBe("killed");
    expect([child.pid, ...kids].every(isGone)).toBe(true);
  });

  it("returns exited at once when nothing of the group is left", async () => {
    const child = spawn("true", { stdio: "ignore", detached: true });
    await new Promise((resolve) => child.on("exit", resolve));
    expect(await terminateGroup({ pid: child.pid!, pgid: child.pid!, signal: "SIGTERM", timeoutMs: 5000 })).toBe("exited");
  });

  it("leaves a pid alone whose start time does not match", async () => {
    const child = spawnGroup("exec sleep 1000");
    await waitFor(() => readProcStat(child.pid)?.state === "S");
    const outcome = await terminateGroup({
      pid: child.pid,
      pgid: 999_999_999,
      signal: "SIGKILL",
      timeoutMs: 100,
      startTime: 1,
    });
    expect(outcome).toBe("exited");
    expect(isAlive(child.pid)).toBe(true);
  });
});
