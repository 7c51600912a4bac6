import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cgroup2Mount, openCgroupRoot, ownCgroupPath } from "../../../src/runtime/process/cgroup.js";
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
describe.runIf(outcome.root !== null)("a supervisor's cgroups", () => {
  it("has a child born inside, ends a setsid grandchild with it, and leaves no directory", async () => {
    const root = openCgroupRoot().root!;
    try {
      const cgroup = root.forInstance("svc")!;
      const { value: child, inside } = root.spawnInside(cgroup, () =>
        spawn("sh", ["-c", "setsid sleep 2001 & exec sleep 2002"], { detached: true, stdio: "ignore" }),
      );
      adopt(-child.pid!);
      expect(inside).toBe(true);
      const pids = await waitFor(() => (cgroup.pids().length >= 2 ? cgroup.pids() : undefined));
      pids.forEach(adopt);
      expect(pids).toContain(child.pid);
      // vigil itself is back in its own leaf, never in a cgroup it may kill
      expect(pids).not.toContain(process.pid);
      cgroup.kill();
      await waitFor(() => pids.every(isGone) && cgroup.pids().length === 0);
    } finally {
      root.close();
    }
    expect(existsSync(root.dir)).toBe(false);
  });
});
