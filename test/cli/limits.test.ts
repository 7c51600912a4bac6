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
