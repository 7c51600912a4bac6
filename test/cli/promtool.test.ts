// /metrics of a real stack, through Prometheus' own linter: `promtool check metrics` must find nothing.
import { spawn, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { freePort } from "../support/net.js";
import { useStacks } from "../support/stack.js";

const stack = useStacks();
const hasPromtool = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;
// on CI a missing promtool is a failure, never a skipped test
const runIt = hasPromtool || process.env["CI"] !== undefined ? it : it.skip;

function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

describe("metrics for Prometheus", () => {
  runIt("passes promtool check metrics, with a probe's status among them", async () => {
    const [port, closed] = [await freePort(), await freePort()];
    const s = await stack(`
version: 1
http: { listen: "127.0.0.1:${port}" }
services:
  api:
    command: sleep 300
    heartbeat: { via: socket, interval: 1h }
    probes:
      readiness: { tcp: "127.0.0.1:${port}", interval: 100ms }
  web:
    command: sleep 301
    replicas: 2
    probes:
      readiness: { tcp: "127.0.0.1:${closed}", interval: 100ms, failures: 1 }
`);
    s.start();
    await s.waitFor("api", (x) => x.probes?.readiness?.status === "passing", "to pass its readiness probe");
    await s.waitFor("web.1", (x) => x.probes?.readiness?.status === "failing", "to fail its readiness probe");
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_probe_up\{service="api",instance="api",probe="readiness"\} 1$/m);
    expect(metrics).toMatch(/^vigil_probe_up\{service="web",instance="web\.1",probe="readiness"\} 0$/m);
    expect(metrics).toMatch(/^# TYPE vigil_nodejs_active_handles gauge$/m);
    expect(await promtoolCheck(metrics)).toEqual({ code: 0, output: "" });
  });
});
