import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { StatusDocument, SupervisorDoc } from "../../../src/control/status-document.js";
import type { HttpConfig } from "../../../src/manifest/types.js";
import { BadRequestError, UnknownServiceError, type ApiBackend, type ControlCommand, type DashboardSource } from "../../../src/runtime/http/backend.js";
import { MAX_STREAMS_PER_PEER, startHttpApi, type HttpApi } from "../../../src/runtime/http/server.js";
import type { Logger } from "../../../src/runtime/outputs/logger.js";
import { parseSse } from "../../../web/src/sse-parse.js";

const TOKEN = "s3cret-token";
const NAMES = ["api", "web"];
const supervisor = { pid: 1, generation: 1, config_error: null } as unknown as SupervisorDoc;

class Backend implements ApiBackend {
  readonly calls: string[] = [];
  status(names?: readonly string[]): StatusDocument {
    const wanted = names && names.length > 0 ? names : NAMES;
    const unknown = wanted.filter((n) => !NAMES.includes(n));
    if (unknown.length > 0) throw new UnknownServiceError(`unknown service ${unknown.join(", ")}`, NAMES);
    return { supervisor, services: wanted.map((name) => ({ name, state: "running" })) } as unknown as StatusDocument;
  }
  heartbeatStatus() {
    return { monitor: { running: true, watched: 0, healthy: 0, degraded: 0, critical: 0, failed: 0 }, services: [] };
  }
  control(command: ControlCommand, names: readonly string[]): void {
    this.calls.push(`${command} ${names.join(",")}`);
  }
  scale(service: string, replicas: number): void {
    if (replicas > 100) throw new BadRequestError(`replicas must be a whole number from 0 to 100, got ${replicas}`);
    this.calls.push(`scale ${service} ${replicas}`);
  }
  restartCounts() {
    return {};
  }
  alertCounters() {
    return { delivered: 0, failed: 0, dropped: 0, retries: 0, folded: 0, inFlight: 0, queued: 0 };
  }
  readonly dashboard: DashboardSource = {
    subscribe: () => () => undefined,
    onOutput: () => () => undefined,
    onStatus: () => () => undefined,
    journal: () => Promise.resolve([]),
    logTail: () => Promise.resolve([]),
    layout: () => [],
    supervisor: () => supervisor,
  };
}

const quiet: Logger = { log: () => undefined, flush: () => Promise.resolve() };
let webDir = "";
const servers: HttpApi[] = [];

beforeAll(async () => {
  webDir = await mkdtemp(join(tmpdir(), "vigil-web-"));
  await writeFile(join(webDir, "index.html"), "<!doctype html><title>vigil</title>");
  await writeFile(join(webDir, "app.js"), "export {};");
  await writeFile(join(webDir, "style.css"), "body{}");
  await writeFile(join(webDir, ".secret.js"), "no");
});
afterAll(() => rm(webDir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(config: Partial<HttpConfig> = {}, env: NodeJS.ProcessEnv = { VIGIL_TOKEN: TOKEN }, backend = new Backend()) {
  const api = await startHttpApi({ host: "127.0.0.1", port: 0, tokenEnv: "VIGIL_TOKEN", ...config }, backend, quiet, env, { webDir });
  servers.push(api);
  return { api, backend, base: `http://127.0.0.1:${api.address.port}` };
}

/** a POST with the headers a browser would send (fetch leaves Origin out) */
function post(base: string, path: string, headers: Record<string, string>, body = "{}"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const bearer = { authorization: `Bearer ${TOKEN}` };

/** a GET with headers fetch may not set (Host) */
function get(base: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the dashboard's files", () => {
  it("serves the page at / with a content security policy, no caching, and no referrer", async () => {
    const { base } = await start();
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.text()).toContain("<title>vigil</title>");
  });

  it("serves its script and stylesheet with their content types", async () => {
    const { base } = await start();
    expect((await fetch(`${base}/app.js`)).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await fetch(`${base}/style.css`)).headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it("serves nothing outside its folder, no dot file, no unknown kind of file", async () => {
    const { base } = await start();
    for (const path of ["/.secret.js", "/%2e%2e/package.json", "/..%2fpackage.json", "/nope.js", "/index.txt"]) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
  });

  it("serves the page without a token where the API wants one everywhere, but not the data", async () => {
    const { api } = await start({ host: "0.0.0.0" });
    const base = `http://127.0.0.1:${api.address.port}`;
    expect((await fetch(`${base}/`)).status).toBe(200);
    expect((await fetch(`${base}/api/stream`)).status).toBe(401);
    expect((await fetch(`${base}/api/status`)).status).toBe(401);
  });
});

describe("a loopback server read through another name (DNS rebinding)", () => {
  it("answers no data to a Host that is not a loopback name, unless the request carries the token", async () => {
    const { api } = await start();
    const port = api.address.port;
    const base = `http://127.0.0.1:${port}`;
    for (const path of ["/api/status", "/metrics", "/api/stream", "/api/heartbeat/status"]) {
      expect(await get(base, path, { host: `attacker.example:${port}` }), path).toBe(421);
      expect(await get(base, path, { host: `attacker.example:${port}`, authorization: "Bearer wrong" }), path).toBe(421);
    }
    expect(await get(base, "/api/status", { host: `attacker.example:${port}`, ...bearer })).toBe(200);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `vigil.localhost:${port}`, `127.8.9.10:${port}`, "localhost"]) {
      expect(await get(base, "/api/status", { host }), host).toBe(200);
    }
    // the page holds no data: it is served whatever the name, and its reads are what is refused
    expect(await get(base, "/", { host: `attacker.example:${port}` })).toBe(200);
  });

  it("takes the IPv6 loopback and the address it listens on as its names", async () => {
    const { api } = await start({ host: "::1" });
    const port = api.address.port;
    const base = `http://[::1]:${port}`;
    expect(await get(base, "/api/status", { host: `[::1]:${port}` })).toBe(200);
    expect(await get(base, "/api/status", { host: `[::2]:${port}` })).toBe(421);
    expect(await get(base, "/api/status", { host: `[::1]` })).toBe(200);
  });
});

describe("actions from a browser", () => {
  it("are refused without the token (401), and nothing is done", async () => {
    const { base, backend } = await start();
    const res = await post(base, "/api/services/api/restart", { origin: base });
    expect(res.status).toBe(401);
    expect(backend.calls).toEqual([]);
  });

  it("are refused from another origin even with the token", async () => {
    const { base, backend } = await start();
    const foreign: Record<string, string>[] = [{ origin: "http://evil.example" }, { origin: "null" }, { origin: base.replace("127.0.0.1", "localhost") }, { "sec-fetch-site": "cross-site" }];
    for (const headers of foreign) {
      const res = await post(base, "/api/services/api/restart", { ...bearer, ...headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
    }
    expect(backend.calls).toEqual([]);
  });

  it("are taken from the page's own origin, or from a program that sends no Origin", async () => {
    const { base, backend } = await start();
    expect((await post(base, "/api/services/api/restart", { ...bearer, origin: base, "sec-fetch-site": "same-origin" })).status).toBe(202);
    expect((await post(base, "/api/services/web/stop", bearer)).status).toBe(202);
    expect(backend.calls).toEqual(["restart api", "stop web"]);
  });

  it("scale a service with a replica count, and refuse a body without one", async () => {
    const { base, backend } = await start();
    expect((await post(base, "/api/services/web/scale", bearer, '{"replicas":3}')).status).toBe(202);
    expect((await post(base, "/api/services/web/scale", bearer, '{"replicas":"x"}')).status).toBe(400);
    const over = await post(base, "/api/services/web/scale", bearer, '{"replicas":500}');
    expect(over.status).toBe(400);
    expect(over.body).toContain("from 0 to 100");
    expect(backend.calls).toEqual(["scale web 3"]);
  });

  it("never happen on a GET", async () => {
    const { base, backend } = await start();
    expect((await fetch(`${base}/api/services/api/restart`, { headers: bearer })).status).toBe(405);
    expect(backend.calls).toEqual([]);
  });
});

describe("the live stream", () => {
  it("answers as text/event-stream with the snapshot first", async () => {
    const { base } = await start();
    const controller = new AbortController();
    const res = await fetch(`${base}/api/stream`, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (parseSse(text).events.length === 0) text += (await reader.read()).value ?? "";
    const [first] = parseSse(text).events;
    expect(first?.event).toBe("snapshot");
    expect(JSON.parse(first?.data ?? "{}").services).toHaveLength(2);
    controller.abort();
  });

  it("refuses to follow an instance the stack does not have", async () => {
    const { base } = await start();
    const res = await fetch(`${base}/api/stream?follow=${encodeURIComponent("../../etc/passwd")}`);
    expect(res.status).toBe(404);
  });

  it(`holds at most ${MAX_STREAMS_PER_PEER} streams per address, and ends them all when the server closes`, async () => {
    const { base, api } = await start();
    const open = await Promise.all(Array.from({ length: MAX_STREAMS_PER_PEER }, () => fetch(`${base}/api/stream`)));
    expect(open.map((r) => r.status)).toEqual(Array(MAX_STREAMS_PER_PEER).fill(200));
    const refused = await fetch(`${base}/api/stream`);
    expect(refused.status).toBe(429);
    const ended = open.map((r) => r.text());
    await api.close();
    const texts = await Promise.all(ended);
    expect(texts.every((t) => t.includes("event: snapshot"))).toBe(true);
  });

  it("is not served by an API without a dashboard source", async () => {
    const backend = new Backend();
    const plain: ApiBackend = {
      status: (n) => backend.status(n),
      heartbeatStatus: () => backend.heartbeatStatus(),
      control: () => undefined,
      restartCounts: () => ({}),
      alertCounters: () => backend.alertCounters(),
    };
    const { base } = await start({}, { VIGIL_TOKEN: TOKEN }, plain as Backend);
    expect((await fetch(`${base}/api/stream`)).status).toBe(404);
    expect((await fetch(`${base}/`)).status).toBe(404);
  });
});
