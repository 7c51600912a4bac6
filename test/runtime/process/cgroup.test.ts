import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cgroup2Mount, forkedByChild, openCgroupRoot, ownCgroupPath, type Cgroup, type CgroupRoot } from "../../../src/runtime/process/cgroup.js";
import type { ProcStat } from "../../../src/runtime/process/proc.js";
import { readProcStat } from "../../../src/runtime/process/proc.js";
import { isGone, useProcesses, waitFor } from "../../support/processes.js";

const { adopt } = useProcesses();

describe("cgroup discovery", () => {
  it("finds the cgroup2 mount in mountinfo, with escaped characters", () => {
    const info = [
      "25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw",
      "41 31 0:38 / /sys/fs/cgroup/my\\040tree rw,relatime - cgroup2 cgroup2 rw",
    ].join("\n");
    expect(cgroup2Mount(info)).toBe("/sys/fs/cgroup/my tree");
    expect(cgroup2Mount("25 30 0:23 / /sys rw - sysfs sysfs rw")).toBeNull();
  });

  it("reads the process's own cgroup2 path", () => {
    expect(ownCgroupPath("4:memory:/x\n0::/user.slice/app.scope\n")).toBe("/user.slice/app.scope");
    expect(ownCgroupPath("4:memory:/x\n")).toBeNull();
  });

  it("is off when VIGIL_CGROUP=off", () => {
    expect(openCgroupRoot({ VIGIL_CGROUP: "off" })).toEqual({ root: null, reason: "VIGIL_CGROUP=off" });
  });
});

describe("what a child forked in vigil's leaf before its move", () => {
  const VIGIL = 10;
  const CHILD = 500;
  const stat = (pid: number, ppid: number, session: number): ProcStat => ({ pid, ppid, session, pgid: session, state: "S", startTime: 1 });

  it("is what is in the child's session or under the child, however deep, in any order", () => {
    const fresh = [stat(503, 502, 503), stat(501, CHILD, CHILD), stat(502, 501, CHILD), stat(CHILD, VIGIL, CHILD)];
    expect(forkedByChild(fresh, CHILD, new Set([VIGIL]), VIGIL).sort()).toEqual([501, 502, 503]);
  });

  it("leaves what vigil's other children (there before the spawn) and theirs forked meanwhile", () => {
    const probe = 300;
    const fresh = [stat(301, probe, probe), stat(302, 301, 302), stat(501, CHILD, CHILD)];
    expect(forkedByChild(fresh, CHILD, new Set([VIGIL, probe]), VIGIL)).toEqual([501]);
  });

  it("takes an orphan that left the child's session (a double fork's daemon), and what is under it", () => {
    const fresh = [stat(601, 1, 601), stat(602, 601, 601)];
    expect(forkedByChild(fresh, CHILD, new Set([VIGIL]), VIGIL).sort()).toEqual([601, 602]);
  });

  it("is nothing when only the child is new", () => {
    expect(forkedByChild([stat(CHILD, VIGIL, CHILD)], CHILD, new Set([VIGIL]), VIGIL)).toEqual([]);
  });
});

// needs a writable cgroup2 hierarchy (root on a machine with one); elsewhere it says why not
const outcome = openCgroupRoot();
outcome.root?.close();

/** the cgroup a process is in now, as a path under the cgroup2 mount */
function cgroupOf(pid: number): string {
  const mount = cgroup2Mount(readFileSync("/proc/self/mountinfo", "utf8"))!;
  return join(mount, ownCgroupPath(readFileSync(`/proc/${pid}/cgroup`, "utf8"))!);
}

const sleeper = (seconds: number) => () => spawn("sleep", [String(seconds)], { detached: true, stdio: "ignore" });

describe.runIf(outcome.root !== null)("a supervisor's cgroups", () => {
  let root: CgroupRoot;
  let origin: string;
  beforeEach(() => {
    origin = cgroupOf(process.pid);
    root = openCgroupRoot().root!;
  });
  // what a test left in its cgroups ends before they are removed (the next test's root has the same name)
  const made: Cgroup[] = [];
  afterEach(async () => {
    for (const cgroup of made) cgroup.kill();
    await waitFor(() => made.every((cgroup) => cgroup.pids().length === 0));
    made.length = 0;
    root.close();
  });
  const instance = (name: string): Cgroup => {
    const cgroup = root.forInstance(name)!;
    made.push(cgroup);
    return cgroup;
  };
  const home = (): string => join(root.dir, "supervisor");

  /** the processes in vigil's leaf running `sleep N`, by N */
  const sleepersInLeaf = (): Map<string, number> => {
    const found = new Map<string, number>();
    for (const line of (readFileSync(join(home(), "cgroup.procs"), "utf8") as string).split("\n")) {
      if (line === "") continue;
      try {
        const argv = readFileSync(`/proc/${line}/cmdline`, "utf8").split("\0");
        if (argv[0] === "sleep") found.set(argv[1]!, Number(line));
      } catch {
        // gone
      }
    }
    return found;
  };

  /** Blocks this thread, as a loaded machine would hold vigil up between a spawn and the move, until probe() holds. */
  const holdUntil = (probe: () => boolean): void => {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 5_000;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error("condition not met in time");
      Atomics.wait(cell, 0, 0, 2);
    }
  };

  it("moves a child into its cgroup at once, ends a setsid grandchild with it, and leaves no directory", async () => {
    const cgroup = instance("svc");
    const { value: child, inside } = root.spawnInto(cgroup, () =>
      spawn("sh", ["-c", "setsid sleep 2001 & exec sleep 2002"], { detached: true, stdio: "ignore" }),
    );
    adopt(-child.pid!);
    expect(inside).toBe(true);
    // vigil itself never leaves its own leaf, never in a cgroup it may kill
    expect(cgroupOf(process.pid)).toBe(home());
    const pids = await waitFor(() => (cgroup.pids().length >= 2 ? cgroup.pids() : undefined));
    pids.forEach(adopt);
    expect(pids).toContain(child.pid);
    expect(pids).not.toContain(process.pid);
    cgroup.kill();
    await waitFor(() => pids.every(isGone) && cgroup.pids().length === 0);
    root.close();
    expect(existsSync(root.dir)).toBe(false);
    expect(cgroupOf(process.pid)).toBe(origin);
  });

  it("moves what the child forked before its move: a grandchild in its session and a daemon that left it", async () => {
    const cgroup = instance("svc");
    const { value: child, inside } = root.spawnInto(cgroup, () => {
      const c = spawn("sh", ["-c", "sleep 2601 & setsid sh -c 'sleep 2602 & exit 0'; exec sleep 2603"], { detached: true, stdio: "ignore" });
      adopt(-c.pid!);
      // all three run in vigil's leaf, the daemon orphaned in a session of its own
      holdUntil(() => ["2601", "2602", "2603"].every((n) => sleepersInLeaf().has(n)) && readProcStat(sleepersInLeaf().get("2602")!)?.ppid !== c.pid);
      for (const pid of sleepersInLeaf().values()) adopt(pid);
      return c;
    });
    expect(inside).toBe(true);
    expect(sleepersInLeaf()).toEqual(new Map());
    const inCgroup = cgroup.pids();
    expect(inCgroup).toHaveLength(3);
    expect(inCgroup).toContain(child.pid);
    cgroup.kill();
    await waitFor(() => inCgroup.every(isGone));
  });

  it("leaves vigil's other children, and what they fork meanwhile, in its leaf", async () => {
    // a probe's command, say: forks sleep 2702 on SIGUSR1
    const other = spawn("sh", ["-c", "trap 'sleep 2702 &' USR1; sleep 2700 & while :; do wait; done"], { detached: true, stdio: "ignore" });
    adopt(-other.pid!);
    await waitFor(() => sleepersInLeaf().has("2700"));
    const cgroup = instance("svc");
    const { value: child, inside } = root.spawnInto(cgroup, () => {
      const c = spawn("sleep", ["2701"], { detached: true, stdio: "ignore" });
      adopt(c.pid!);
      process.kill(other.pid!, "SIGUSR1");
      holdUntil(() => sleepersInLeaf().has("2702"));
      return c;
    });
    expect(inside).toBe(true);
    expect(cgroup.pids()).toEqual([child.pid]);
    expect([...sleepersInLeaf().keys()].sort()).toEqual(["2700", "2702"]);
    expect(cgroupOf(other.pid!)).toBe(home());
    // out of vigil's leaf before the root closes
    const left = [other.pid!, ...sleepersInLeaf().values()];
    process.kill(-other.pid!, "SIGKILL");
    await waitFor(() => left.every(isGone));
  });

  it("leaves in its leaf what another child of vigil left behind before a spawn (an orphan), turns later", async () => {
    const first = root.spawnInto(instance("a")!, sleeper(2800)).value;
    adopt(first.pid!);
    // a probe's command that starts something and exits: its sleep is an orphan in vigil's leaf
    const probe = spawn("sh", ["-c", "sleep 2801 & exit 0"], { detached: true, stdio: "ignore" });
    adopt(-probe.pid!);
    const orphan = await waitFor(() => {
      const pid = sleepersInLeaf().get("2801");
      return pid !== undefined && readProcStat(pid)?.ppid !== probe.pid ? pid : undefined;
    });
    adopt(orphan);
    const { value: child, inside } = root.spawnInto(instance("b")!, sleeper(2802));
    adopt(child.pid!);
    expect(inside).toBe(true);
    expect(cgroupOf(orphan)).toBe(home());
    process.kill(orphan, "SIGKILL");
    await waitFor(() => isGone(orphan));
  });

  it("gives each of several children spawned in one turn its own cgroup, vigil in its leaf throughout", async () => {
    const cgroups = ["a", "b", "c"].map((name) => instance(name)!);
    const children = cgroups.map((cgroup) => {
      const { value: child, inside } = root.spawnInto(cgroup, sleeper(2101));
      adopt(child.pid!);
      expect(inside).toBe(true);
      expect(cgroupOf(child.pid!)).toBe(cgroup.path);
      expect(cgroupOf(process.pid)).toBe(home());
      return child;
    });
    cgroups.forEach((cgroup, i) => expect(cgroup.pids()).toEqual([children[i]!.pid]));
  });

  it("keeps restarts back to back in one cgroup", async () => {
    const cgroup = instance("svc")!;
    for (let i = 0; i < 5; i++) {
      const { value: child, inside } = root.spawnInto(cgroup, sleeper(2501));
      adopt(child.pid!);
      expect(inside).toBe(true);
      expect(cgroupOf(child.pid!)).toBe(cgroup.path);
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      expect(cgroupOf(process.pid)).toBe(home());
    }
  });

  it("leaves a child it cannot move in its own leaf, tracked without a cgroup", async () => {
    const first = instance("a")!;
    const gone = instance("gone")!;
    rmdirSync(gone.path);
    const { value: before } = root.spawnInto(first, sleeper(2301));
    adopt(before.pid!);
    const { value: child, inside } = root.spawnInto(gone, sleeper(2302));
    adopt(child.pid!);
    expect(inside).toBe(false);
    expect(cgroupOf(child.pid!)).toBe(home());
    expect(cgroupOf(before.pid!)).toBe(first.path);
    // out of vigil's leaf before the root closes
    child.kill("SIGKILL");
    await waitFor(() => isGone(child.pid!));
  });

  it("says a spawn that made no child is not inside, and closes back where it started", async () => {
    expect(root.spawnInto(instance("other")!, () => null)).toEqual({ value: null, inside: false });
    root.close();
    expect(cgroupOf(process.pid)).toBe(origin);
    expect(existsSync(root.dir)).toBe(false);
  });
});
