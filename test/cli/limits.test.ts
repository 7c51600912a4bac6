import { describe, expect, it } from "vitest";
import { isRunning, useStacks } from "../support/stack.js";

const stack = useStacks();

describe("resource limits", () => {
  it("restarts a memory hog behind a shell wrapper with reason memory, while a small sibling keeps its PID", async () => {
    const s = await stack(`
version: 1
resources: { interval: 100ms }
services:
  hog:
    command: sh -c 'node -e "const b = []; setInterval(() => b.length < 40 && b.push(Buffer.alloc(10 * 1024 * 1024, 1)), 20)"'
    shell: false
    limits: { memory: 150MiB, for: 300ms }
    restart: { policy: always, backoff: { initial: 0 } }
  small:
    command: sleep 300
`);
    s.start();
    const first = await s.waitFor("hog", (x) => x.state === "running", "to run");
    const small = await s.waitFor("small", (x) => x.state === "running" && x.memory_bytes !== null, "to be sampled");
    const restarted = await s.waitFor("hog", (x) => x.last_exit?.reason === "memory", "to be restarted for memory");
    expect(restarted.restarts).toBeGreaterThanOrEqual(1);
    expect(s.stderr).toMatch(/hog: memory \d+(\.\d)?MiB over limit 150MiB for [\d.]+(ms|s)$/m);
    expect(isRunning(first.pid!)).toBe(false);
    const now = await s.service("small");
    expect(now?.pid).toBe(small.pid);
    expect(now?.memory_bytes).toBeLessThan(50 * 1024 * 1024);
  });

  it("restarts a CPU spinner with reason cpu, reporting its figures in the status", async () => {
    const s = await stack(`
version: 1
resources: { interval: 150ms }
services:
  spinner:
    command: node -e "for (;;) {}"
    limits: { cpu: 30%, for: 2500ms }
    restart: { policy: on-failure, max_restarts: 0 }
`);
    s.start();
    const busy = await s.waitFor("spinner", (x) => (x.cpu_percent ?? 0) > 30, "to show its CPU use");
    expect(busy.own_cpu_percent).toBeGreaterThan(30);
    expect(busy.processes).toBe(1);
    const ended = await s.waitFor("spinner", (x) => x.state === "fatal", "to be ended for cpu");
    expect(ended.last_exit?.reason).toBe("cpu");
    expect(s.stderr).toMatch(/spinner: cpu \d+(\.\d)?% over limit 30% for [\d.]+(ms|s)$/m);
    expect(s.stderr).toMatch(/spinner: cpu: \d+(\.\d)?% over limit 30% for [\d.]+(ms|s); restarting$/m);
    const json = JSON.parse((await s.run(["status", "--history", "spinner"])).stdout);
    expect(json.services[0].history.length).toBeGreaterThan(2);
    expect(json.services[0].history.at(-1)).toEqual({ at: expect.any(String), cpu_percent: expect.any(Number), memory_bytes: expect.any(Number) });
    // the plain document leaves the series out
    expect(JSON.parse((await s.run(["status", "--json", "spinner"])).stdout).services[0]).not.toHaveProperty("history");
  });

  it("logs a disk warning when the disk holding the state directory is past checks.disk.warn", async () => {
    const s = await stack(`
version: 1
resources: { interval: 100ms }
checks: { disk: { warn: 0.01%, critical: 100% } }
services:
  idle:
    command: sleep 300
`);
    s.start();
    await s.waitFor("idle", (x) => x.state === "running", "to run");
    await expect.poll(() => s.stderr, { timeout: 10_000 }).toMatch(/vigil warn: disk warn: .*\.vigil is [\d.]+% full \(threshold 0\.01%\)/);
    // the status file follows within a second of the sample
    await expect.poll(async () => (await s.statusFile())?.supervisor.host?.disk?.used_percent ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(s.stderr.match(/disk warn:/g)).toHaveLength(1);
  });
});
