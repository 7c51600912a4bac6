import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diskUsage, HostSampler, hostStats } from "../../../src/runtime/resources/host.js";

const dir = mkdtempSync(join(tmpdir(), "vigil-host-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("hostStats", () => {
  it("gives cores, load, memory and the disk that holds the path", async () => {
    const host = await hostStats(dir);
    expect(host.cores).toBe(cpus().length);
    expect(host.loadAvg).toHaveLength(3);
    expect(host.memTotalBytes).toBeGreaterThan(0);
    expect(host.memAvailableBytes).toBeGreaterThan(0);
    expect(host.memAvailableBytes).toBeLessThanOrEqual(host.memTotalBytes);
    expect(host.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(host.cpuPercent).toBeLessThanOrEqual(100);
    expect(host.disk?.path).toBe(dir);
    expect(host.disk!.totalBytes).toBeGreaterThan(0);
    expect(host.disk!.usedBytes).toBeLessThanOrEqual(host.disk!.totalBytes);
    expect(host.disk!.usedPercent).toBeGreaterThanOrEqual(0);
    expect(host.disk!.usedPercent).toBeLessThanOrEqual(100);
  });

  it("measures cpu since the previous sample", async () => {
    const sampler = new HostSampler();
    await sampler.sample(dir);
    // keep one core busy so the next figure cannot be 0
    const until = Date.now() + 300;
    while (Date.now() < until) {}
    const host = await sampler.sample(dir);
    expect(host.cpuPercent).toBeGreaterThan(0);
    expect(host.cpuPercent).toBeLessThanOrEqual(100);
  });

  it("gives no disk for a path that does not exist", async () => {
    expect((await hostStats(join(dir, "missing"))).disk).toBeNull();
    expect(await diskUsage(join(dir, "missing"))).toBeNull();
  });
});
