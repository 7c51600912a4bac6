import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cgroup2Mount, openCgroupRoot, ownCgroupPath, type Cgroup, type CgroupRoot } from "../../../src/runtime/process/cgroup.js";
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

// needs a writable cgroup2 hierarchy (root on a machine with one); elsewhere it says why not
const outcome = openCgroupRoot();
outcome.root?.close();

/** the cgroup a process is in now, as a path under the cgroup2 mount */
function cgroupOf(pid: number): string {
  const mount = cgroup2Mount(readFileSync("/proc/self/mountinfo", "utf8"))!;
  return join(mount, ownCgroupPath(readFileSync(`/proc/${pid}/cgroup`, "utf8"))!);
}

/** a turn of the event loop later: the spawns of the turn before are over */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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

  it("has a child born inside, ends a setsid grandchild with it, and leaves no directory", async () => {
    const cgroup = instance("svc");
    const { value: child, inside } = root.spawnInside(cgroup, () =>
      spawn("sh", ["-c", "setsid sleep 2001 & exec sleep 2002"], { detached: true, stdio: "ignore" }),
    );
    adopt(-child.pid!);
    expect(inside).toBe(true);
    await nextTurn();
    // vigil itself is back in its own leaf, never in a cgroup it may kill
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

  it("gives each of several children spawned in one turn its own cgroup, and is home once the turn ends", async () => {
    const cgroups = ["a", "b", "c"].map((name) => instance(name)!);
    const children = cgroups.map((cgroup) => {
      const { value: child, inside } = root.spawnInside(cgroup, sleeper(2101));
      adopt(child.pid!);
      expect(inside).toBe(true);
      // born there: nothing moves a child afterwards
      expect(cgroupOf(child.pid!)).toBe(cgroup.path);
      return child;
    });
    // from one instance's cgroup straight to the next, and home once the turn ends
    expect(cgroupOf(process.pid)).toBe(cgroups[2]!.path);
    await nextTurn();
    expect(cgroupOf(process.pid)).toBe(home());
    cgroups.forEach((cgroup, i) => expect(cgroup.pids()).toEqual([children[i]!.pid]));
  });

  it("goes home before it kills the cgroup it spawned into in the same turn", async () => {
    const cgroup = instance("svc")!;
    const { value: child } = root.spawnInside(cgroup, sleeper(2201));
    adopt(child.pid!);
    cgroup.kill();
    expect(cgroupOf(process.pid)).toBe(home());
    await waitFor(() => isGone(child.pid!));
  });

  it("keeps restarts back to back in one cgroup, vigil home between them", async () => {
    const cgroup = instance("svc")!;
    for (let i = 0; i < 5; i++) {
      const { value: child, inside } = root.spawnInside(cgroup, () => spawn("true", [], { detached: true, stdio: "ignore" }));
      expect(inside).toBe(true);
      expect(cgroupOf(child.pid!)).toBe(cgroup.path);
      await new Promise((resolve) => child.once("exit", resolve));
      expect(cgroupOf(process.pid)).toBe(home());
    }
  });

  it("spawns in its own leaf, not in the cgroup of the turn's spawn before, when it cannot step in", async () => {
    const first = instance("a")!;
    const gone = instance("gone")!;
    rmdirSync(gone.path);
    const { value: before } = root.spawnInside(first, sleeper(2301));
    adopt(before.pid!);
    const { value: child, inside } = root.spawnInside(gone, sleeper(2302));
    adopt(child.pid!);
    expect(inside).toBe(false);
    expect(cgroupOf(child.pid!)).toBe(home());
    expect(cgroupOf(process.pid)).toBe(home());
    // out of vigil's leaf before the root closes
    child.kill("SIGKILL");
    await waitFor(() => isGone(child.pid!));
  });

  it("closed in the turn of a spawn, is back where it started and stays there", async () => {
    const cgroup = instance("svc")!;
    const { value: child } = root.spawnInside(cgroup, sleeper(2401));
    adopt(child.pid!);
    cgroup.kill();
    await waitFor(() => isGone(child.pid!) && cgroup.pids().length === 0);
    root.spawnInside(instance("other")!, () => null);
    root.close();
    expect(cgroupOf(process.pid)).toBe(origin);
    await nextTurn();
    expect(cgroupOf(process.pid)).toBe(origin);
    expect(existsSync(root.dir)).toBe(false);
  });
});
