import { describe, expect, it } from "vitest";
import { signalGroup } from "../../../src/runtime/process/kill.js";
import { readProcStat } from "../../../src/runtime/process/proc.js";
import { isGone, useProcesses, waitFor } from "../../support/processes.js";

const { spawnGroup } = useProcesses();

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
