import { describe, expect, it } from "vitest";
import type { StatusDocument } from "../../src/control/status-document.js";
import type { HeartbeatStatusDoc } from "../../src/runtime/http/backend.js";
import { freePort } from "../support/net.js";
import { useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

/** One idle service and the HTTP API, sampled at the idle pace; `pace` reads supervisor.sampling live. */
async function idleStack() {
  const port = await freePort();
  const s = await stack(`
version: 1
http: { listen: "127.0.0.1:${port}" }
services:
  worker:
    command: sleep 300
`);
  s.start();
  await s.waitFor("worker", (x) => x.state === "running", "to run");
  const pace = async () => JSON.parse((await s.run(["status", "--json"])).stdout).supervisor.sampling;
  expect(await pace()).toMatchObject({ pace: "idle", because: "none" });
  return { port, pace };
}

describe("the HTTP API of a running stack", () => {
  it("serves status, heartbeat status and metrics, and restarts a service only with the token", async () => {
    const port = await freePort();
    const s = await stack(`
version: 1
http: { listen: "127.0.0.1:${port}", token_env: VIGIL_TEST_TOKEN }
services:
  api:
    command: sleep 300
    heartbeat: { via: socket, interval: 1h }
  worker:
    command: sleep 301
`);
    s.start([], { VIGIL_TEST_TOKEN: "s3cret" });
    const api = await s.waitFor("api", (x) => x.state === "running", "to run");
    await s.waitFor("worker", (x) => x.state === "running", "to run");
    const base = `http://127.0.0.1:${port}`;

    const status = (await (await fetch(`${base}/api/status`)).json()) as StatusDocument;
    expect(status.services.map((x: { name: string }) => x.name)).toEqual(["api", "worker"]);
    expect(status.supervisor.pid).toBe(s.up?.pid);

    const hb = (await (await fetch(`${base}/api/heartbeat/status`)).json()) as HeartbeatStatusDoc;
    expect(hb.monitor.running).toBe(true);
    expect(hb.services).toEqual([expect.objectContaining({ name: "api", interval_ms: 3_600_000, misses: 3 })]);

    const denied = await fetch(`${base}/api/services/api/restart`, { method: "POST" });
    expect(denied.status).toBe(401);
    const wrong = await fetch(`${base}/api/services/api/restart`, { method: "POST", headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const unknown = await fetch(`${base}/api/services/apl/restart`, { method: "POST", headers: { authorization: "Bearer s3cret" } });
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(await unknown.json())).toMatch(/api/);
    expect((await s.service("api"))?.pid).toBe(api.pid);

    const ok = await fetch(`${base}/api/services/api/restart`, { method: "POST", headers: { authorization: "Bearer s3cret" } });
    expect(ok.status).toBe(202);
    await s.waitFor("api", (x) => x.state === "running" && x.pid !== api.pid, "to restart");

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_service_up\{service="api",instance="api"\} 1$/m);
    expect(metrics).toMatch(/^vigil_service_restarts_total\{service="api",instance="api",reason="manual"\} 1$/m);
    expect(metrics).toMatch(/^# TYPE vigil_service_restarts_total counter$/m);
  });

  it("samples resources at the full pace once a scraper reads the metrics", async () => {
    const { port, pace } = await idleStack();
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    expect(await pace()).toEqual({ pace: "full", interval_ms: 2_000, because: "watched" });
  });

  it("samples at the full pace while a dashboard's live stream is open, and slows once it closes", async () => {
    const { port, pace } = await idleStack();
    const page = new AbortController();
    const stream = await fetch(`http://127.0.0.1:${port}/api/stream`, { signal: page.signal });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await reader.read(); // the stream is open once its first bytes arrive
    expect(await pace()).toEqual({ pace: "full", interval_ms: 2_000, because: "watched" });
    page.abort();
    await reader.cancel().catch(() => undefined);
    await waitUntil(async () => (await pace()).pace === "idle", "the pace to slow once the page is gone");
  });

  it("refuses to start on a non-loopback address whose token variable is empty", async () => {
    const port = await freePort();
    const s = await stack(`
version: 1
http: { listen: "0.0.0.0:${port}", token_env: VIGIL_TEST_TOKEN_UNSET }
services:
  a: { command: sleep 300 }
`);
    const res = await s.run(["up"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/VIGIL_TEST_TOKEN_UNSET/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
