import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { chooseBackend, isSameProcess, processes } from "../../../src/runtime/process/table.js";
import { PsTable } from "../../../src/runtime/process/ps-backend.js";
import { procTable } from "../../../src/runtime/process/proc-backend.js";
import { takeSnapshot, liveDescendants } from "../../../src/runtime/process/proc-snapshot.js";
import { useProcesses, waitFor, waitForDescendants } from "../../support/processes.js";

const { spawnGroup } = useProcesses();

describe("the process backend", () => {
  it("is /proc on Linux and ps elsewhere, unless VIGIL_PROCESS_BACKEND says otherwise", () => {
    expect(chooseBackend("linux", undefined)).toBe("proc");
    expect(chooseBackend("linux", "portable")).toBe("portable");
    expect(chooseBackend("darwin", undefined)).toBe("portable");
    expect(chooseBackend("freebsd", "")).toBe("portable");
    expect(chooseBackend("darwin", "proc")).toEqual({ error: expect.stringMatching(/VIGIL_PROCESS_BACKEND=proc needs Linux \/proc/) });
    expect(chooseBackend("linux", "fast")).toEqual({ error: 'VIGIL_PROCESS_BACKEND must be proc or portable, not "fast"' });
    expect(chooseBackend("win32", undefined)).toEqual({ error: expect.stringMatching(/^vigil runs on Linux, macOS and the BSDs .*not on win32$/) });
  });

  it("is the one VIGIL_PROCESS_BACKEND names in the tests' environment", () => {
    expect(processes().backend).toBe(process.env["VIGIL_PROCESS_BACKEND"] === "portable" ? "portable" : "proc");
  });
});

// Both backends run here on Linux, whichever the suite runs with: they must agree on what they see.
describe.each([
  ["proc", () => procTable()],
  ["portable", () => new PsTable("linux")],
] as const)("the %s table", (_name, make) => {
  it("lists a process tree with its group, state and start time, and reads one process", async () => {
    const table = make();
    const token = randomBytes(16).toString("hex");
    const leader = spawnGroup("sleep 1000 & exec sleep 1001", { VIGIL_TOKEN: token });
    const [child] = await waitForDescendants(leader.pid, 1);
    // the leader may still be running its exec a moment after the fork (R): it sleeps once it is sleep 1001
    const snap = await waitFor(() => {
      const s = takeSnapshot(table.list());
      return s.byPid.get(leader.pid)?.state === "S" ? s : undefined;
    });
    expect(snap.byPid.get(leader.pid)).toMatchObject({ pid: leader.pid, pgid: leader.pid, state: "S" });
    expect(liveDescendants(snap, [leader.pid]).map((s) => s.pid)).toEqual([child]);
    const one = table.read(child!);
    expect(one).toMatchObject({ pid: child, ppid: leader.pid, pgid: leader.pid });
    expect(one?.startTime).toBe(snap.byPid.get(child!)?.startTime);
    await waitFor(() => table.commandLine(leader.pid) === "sleep 1001");
    expect(table.envOf([leader.pid, child!], "VIGIL_TOKEN")).toEqual(new Map([[leader.pid, token], [child!, token]]));
    expect(table.read(2 ** 22 + 1)).toBeNull();
    expect(table.commandLine(2 ** 22 + 1)).toBe("?");
  });

  it("sweeps CPU time and resident memory of every process", { timeout: 30_000 }, async () => {
    const reader = make().usageReader();
    const spinner = spawnGroup(`exec ${process.execPath} -e "const a = Buffer.alloc(64 << 20, 1); const t = Date.now(); while (Date.now() - t < 60000) {}"`);
    // a second of CPU (whole seconds are all procps's ps shows) and the 64 MiB it filled
    for (;;) {
      const row = (await reader.scan(1)).find((u) => u.pid === spinner.pid);
      expect(row).toBeDefined();
      if (row!.cpuTicks >= reader.ticksPerSecond && row!.rssPages * reader.pageBytes > 64 << 20) break;
      await sleep(100);
    }
    reader.close();
  });
});

describe("a start time", () => {
  it("tells a live process from a reused pid, and from a zombie", async () => {
    const table = processes();
    const child = spawn("sleep", ["1000"], { stdio: "ignore" });
    const start = await waitFor(() => table.read(child.pid!)?.startTime);
    expect(isSameProcess(child.pid!, start)).toBe(true);
    expect(isSameProcess(child.pid!, start - 1)).toBe(false);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    await waitFor(() => (isSameProcess(child.pid!, start) ? undefined : true));
  });
});
