import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { StatusDocument } from "../../../src/control/status-document.js";
import type { HttpConfig } from "../../../src/manifest/types.js";
import type { Logger, LogLevel } from "../../../src/runtime/outputs/logger.js";
import { ShuttingDownError, UnknownServiceError, type ApiBackend, type ControlCommand, type HeartbeatStatusDoc } from "../../../src/runtime/http/backend.js";
import { MAX_BODY_BYTES, MAX_HTTP_CONNECTIONS, startHttpApi, type HttpApi } from "../../../src/runtime/http/server.js";
import { Crowd } from "../../support/crowd.js";

const TOKEN = "s3cret-token";
const KNOWN = ["api", "worker"];

function statusDoc(names: readonly string[]): StatusDocument {
  const service = (name: string) => ({
    name, service: name, instance: 0, state: "running" as const, health: "healthy" as const, pid: 100, restarts: 0, started_at: null,
    last_beat_at: null, beats: 0, last_beat_data: null, cpu_percent: null, memory_bytes: null, last_exit: null,
    next_restart_at: null, command: "node app.js", waiting_for: [], own_cpu_percent: null, own_memory_bytes: null, processes: null, probes: null, rejected_messages: 0, status_text: null,
  });
  return {
    supervisor: {
      pid: 1, started_at: "2026-01-01T00:00:00.000Z", manifest: "/m.yaml", generation: 1, config_error: null,
      state_dir: "/state", stopping: false, rejected_messages: 0, host: null, problems: [], connections: null, process_backend: null,
    },
    services: names.map(service),
  };
}

const heartbeatDoc: HeartbeatStatusDoc = {
  monitor: { running: true, watched: 1, healthy: 1, degraded: 0, critical: 0, failed: 0 },
  services: [{ name: "api", health: "healthy", last_beat_at: "2026-01-01T00:00:01.000Z", beat_age_ms: 250, interval_ms: 1000, misses: 3 }],
};

class FakeBackend implements ApiBackend {
  readonly calls: [ControlCommand, readonly string[]][] = [];
  failWith: Error | null = null;
  readonly historyAsked: boolean[] = [];
  status(names?: readonly string[], opts?: { readonly history?: boolean }): StatusDocument {
    this.historyAsked.push(opts?.history === true);
    const unknown = (names ?? []).filter((n) => !KNOWN.includes(n));
    if (unknown.length > 0) throw new UnknownServiceError(`unknown service${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (known: ${KNOWN.join(", ")})`, KNOWN);
    return statusDoc(names && names.length > 0 ? names : KNOWN);
  }
  heartbeatStatus(): HeartbeatStatusDoc {
    return heartbeatDoc;
  }
  control(command: ControlCommand, names: readonly string[]): void {
    if (this.failWith) throw this.failWith;
    const unknown = names.filter((n) => !KNOWN.includes(n));
    if (unknown.length > 0) throw new UnknownServiceError(`unknown service${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (known: ${KNOWN.join(", ")})`, KNOWN);
    this.calls.push([command, names]);
  }
  restartCounts() {
    return { api: { exit: 2 } };
  }
  alertCounters() {
    return { delivered: 0, failed: 0, dropped: 0, retries: 0, folded: 0, inFlight: 0, queued: 0 };
  }
}

function recordingLogger(): Logger & { records: { level: LogLevel; event: string; msg: string }[] } {
  const records: { level: LogLevel; event: string; msg: string }[] = [];
  return { records, log: (level, _service, event, msg) => void records.push({ level, event, msg }), flush: () => Promise.resolve() };
}

const servers: HttpApi[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(config: Partial<HttpConfig> = {}, env: NodeJS.ProcessEnv = { VIGIL_TOKEN: TOKEN }) {
  const backend = new FakeBackend();
  const logger = recordingLogger();
  const api = await startHttpApi({ host: "127.0.0.1", port: 0, tokenEnv: "VIGIL_TOKEN", ...config }, backend, logger, env);
  servers.push(api);
  const base = `http://127.0.0.1:${api.address.port}`;
  return { api, backend, logger, base };
}

const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

/** Sends raw bytes and resolves with everything the server answers before closing. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (answer += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
    socket.write(bytes);
  });
}

describe("HTTP API routes", () => {
  it("listens on port 0 and reports the real port", async () => {
    const { api } = await start();
    expect(api.address.host).toBe("127.0.0.1");
    expect(api.address.port).toBeGreaterThan(0);
  });

  it("answers GET /api/status with the status document", async () => {
    const { base, backend } = await start();
    const res = await fetch(`${base}/api/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as StatusDocument;
    expect(doc.services.map((s) => s.name)).toEqual(KNOWN);
    // the resource series only when asked for
    expect((await fetch(`${base}/api/status?history=1`)).status).toBe(200);
    expect((await fetch(`${base}/api/status?history=no`)).status).toBe(200);
    expect(backend.historyAsked).toEqual([false, true, false]);
  });

  it("filters /api/status by ?service= and names the known services for an unknown one", async () => {
    const { base } = await start();
    const one = (await (await fetch(`${base}/api/status?service=worker`)).json()) as StatusDocument;
    expect(one.services.map((s) => s.name)).toEqual(["worker"]);
    const res = await fetch(`${base}/api/status?service=nope`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: string; known: string[] };
    expect(body.error).toContain("nope");
    expect(body.error).toContain("api, worker");
    expect(body.known).toEqual(KNOWN);
  });

  it("answers GET /api/heartbeat/status", async () => {
    const { base } = await start();
    const res = await fetch(`${base}/api/heartbeat/status`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(heartbeatDoc);
  });

  it("answers GET /metrics in Prometheus text format", async () => {
    const { base } = await start();
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await res.text()).toContain('vigil_service_up{service="api",instance="api"} 1');
  });

  it("answers an unknown route with 404 and a wrong method with 405 and Allow", async () => {
    const { base } = await start();
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toContain("/nope");
    const del = await fetch(`${base}/api/status`, { method: "DELETE" });
    expect(del.status).toBe(405);
    expect(del.headers.get("allow")).toBe("GET, HEAD");
    const get = await fetch(`${base}/api/services/api/restart`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });
});

describe("HTTP API mutations", () => {
  it("refuses a mutation without a token with 401 and does nothing", async () => {
    const { base, backend } = await start();
    const res = await fetch(`${base}/api/services/api/restart`, { method: "POST" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    expect(((await res.json()) as { error: string }).error).toContain("missing bearer token");
    expect(backend.calls).toEqual([]);
  });

  it("refuses a mutation with a wrong token with 401", async () => {
    const { base, backend } = await start();
    for (const token of ["wrong", `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const res = await fetch(`${base}/api/services/api/stop`, { method: "POST", headers: bearer(token) });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe("wrong bearer token");
    }
    expect(backend.calls).toEqual([]);
  });

  it("starts, stops and restarts a service with the right token", async () => {
    const { base, backend, logger } = await start();
    for (const command of ["start", "stop", "restart"] as const) {
      const res = await fetch(`${base}/api/services/api/${command}`, { method: "POST", headers: bearer() });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: true, command, services: ["api"] });
    }
    expect(backend.calls).toEqual([["start", ["api"]], ["stop", ["api"]], ["restart", ["api"]]]);
    expect(logger.records.filter((r) => r.event === "http-control")).toHaveLength(3);
  });

  it("accepts an empty JSON object as the body", async () => {
    const { base, backend } = await start();
    const res = await fetch(`${base}/api/services/worker/restart`, { method: "POST", headers: bearer(), body: "{}" });
    expect(res.status).toBe(202);
    expect(backend.calls).toEqual([["restart", ["worker"]]]);
  });

  it("answers an unknown service with 404 naming the known ones", async () => {
    const { base } = await start();
    const res = await fetch(`${base}/api/services/ghost/restart`, { method: "POST", headers: bearer() });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: string; known: string[] };
    expect(body.error).toBe("unknown service ghost (known: api, worker)");
    expect(body.known).toEqual(KNOWN);
  });

  it("refuses mutations with 403 when the manifest names no token_env", async () => {
    const { base, backend } = await start({ tokenEnv: null });
    const res = await fetch(`${base}/api/services/api/restart`, { method: "POST", headers: bearer() });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toContain("no http.token_env is configured");
    expect(backend.calls).toEqual([]);
    expect((await fetch(`${base}/api/status`)).status).toBe(200);
  });

  it("refuses mutations with 403 when the token variable is unset, and warns at start", async () => {
    const { base, logger } = await start({}, {});
    const res = await fetch(`${base}/api/services/api/restart`, { method: "POST", headers: bearer() });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toContain("VIGIL_TOKEN is empty or not set");
    expect(logger.records.some((r) => r.level === "warn" && r.event === "http-no-token")).toBe(true);
  });

  it("answers 503 while the supervisor shuts down", async () => {
    const { base, backend } = await start();
    backend.failWith = new ShuttingDownError();
    const res = await fetch(`${base}/api/services/api/start`, { method: "POST", headers: bearer() });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toContain("shutting down");
  });

  it("turns a backend failure into a logged 500 and keeps answering", async () => {
    const { base, backend, logger } = await start();
    backend.failWith = new Error("boom");
    const res = await fetch(`${base}/api/services/api/start`, { method: "POST", headers: bearer() });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: string }).error).not.toContain("boom");
    expect(logger.records.some((r) => r.level === "error" && r.msg.includes("boom"))).toBe(true);
    expect((await fetch(`${base}/api/status`)).status).toBe(200);
  });
});

describe("HTTP API on a non-loopback address", () => {
  it("refuses to start without a token", async () => {
    const config = { host: "0.0.0.0", port: 0, tokenEnv: "VIGIL_TOKEN" };
    await expect(startHttpApi(config, new FakeBackend(), recordingLogger(), {})).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0:0 \(not loopback\) without a bearer token: the environment variable VIGIL_TOKEN is empty/,
    );
    await expect(startHttpApi({ ...config, tokenEnv: null }, new FakeBackend(), recordingLogger(), {})).rejects.toThrow(/no http.token_env/);
  });

  it("needs the token on every route", async () => {
    const { api } = await start({ host: "0.0.0.0" });
    const base = `http://127.0.0.1:${api.address.port}`;
    for (const path of ["/api/status", "/api/heartbeat/status", "/metrics", "/nope"]) {
      expect((await fetch(`${base}${path}`)).status).toBe(401);
    }
    expect((await fetch(`${base}/api/status`, { headers: bearer("nope") })).status).toBe(401);
    expect((await fetch(`${base}/api/status`, { headers: bearer() })).status).toBe(200);
    expect((await fetch(`${base}/metrics`, { headers: bearer() })).status).toBe(200);
  });
});

describe("HTTP API against hostile input", () => {
  it("answers a body over 64 KiB with 413, by Content-Length and by chunks", async () => {
    const { base, backend } = await start();
    const big = "x".repeat(MAX_BODY_BYTES + 1);
    const declared = await fetch(`${base}/api/services/api/restart`, { method: "POST", headers: bearer(), body: big });
    expect(declared.status).toBe(413);
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode("y".repeat(8 * 1024)));
        controller.close();
      },
    });
    const streamed = await fetch(`${base}/api/services/api/restart`, { method: "POST", headers: bearer(), body: chunks, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { error: string }).error).toContain("65536");
    expect(backend.calls).toEqual([]);
    expect((await fetch(`${base}/api/status`)).status).toBe(200);
  });

  it("answers a malformed JSON body with 400", async () => {
    const { base, backend } = await start();
    for (const body of ["{nope", "[1]", "42"]) {
      const res = await fetch(`${base}/api/services/api/restart`, { method: "POST", headers: bearer(), body });
      expect(res.status).toBe(400);
    }
    const badName = await fetch(`${base}/api/services/%E0%A4%A/restart`, { method: "POST", headers: bearer() });
    expect(badName.status).toBe(400);
    expect(backend.calls).toEqual([]);
  });

  it("answers a malformed request line with 400 and still answers afterwards", async () => {
    const { api, base } = await start();
    const answer = await raw(api.address.port, "THIS IS NOT HTTP\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('"error":"malformed request');
    const binary = await raw(api.address.port, "\x00\x01\x02\xff\r\n\r\n");
    expect(binary).toMatch(/^HTTP\/1\.1 400 /);
    expect((await fetch(`${base}/api/status`)).status).toBe(200);
  });

  it("shrugs off a client that leaves in the middle of its body", async () => {
    const { api, base, backend, logger } = await start();
    const socket = connect(api.address.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(`POST /api/services/api/restart HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1000\r\n\r\n{"a":`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    expect((await fetch(`${base}/api/status`)).status).toBe(200);
    expect(backend.calls).toEqual([]);
    expect(logger.records.filter((r) => r.level === "error")).toEqual([]);
  });

  it("answers pipelined requests in order when a malformed one follows them, then refuses it", async () => {
    const { api } = await start();
    const ok = "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const answer = await raw(api.address.port, `${ok}${ok}FOO /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect([...answer.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => m[1])).toEqual(["200", "200", "400"]);
    const big = await raw(api.address.port, `POST /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n \r\n0\r\n\r\nGET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"h".repeat(20_000)}\r\n\r\n`);
    expect([...big.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => m[1])).toEqual(["405", "431"]);
  });

  it("answers a request without Host once, and nothing pipelined behind it, even a malformed one", async () => {
    // Node answers the missing Host itself (400, Connection: close); a malformed request read in the same
    // chunk after it must not get a second answer on a connection already closing (found by the HTTP fuzzer)
    const { api, backend } = await start();
    const answer = await raw(api.address.port, "GET /api/status HTTP/1.1\r\n\r\nGET /\u1a5f HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect([...answer.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => m[1])).toEqual(["400"]);
    const behindIt = await raw(api.address.port, "GET /api/status HTTP/1.1\r\n\r\nPOST /api/services/a/restart HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect([...behindIt.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => m[1])).toEqual(["400"]);
    expect(backend.calls).toEqual([]);
  });

  it("answers oversized headers with 431", async () => {
    const { api, base } = await start();
    const answer = await raw(api.address.port, `GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(32 * 1024)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect((await fetch(`${base}/api/status`)).status).toBe(200);
  });

  it("closes a client that never finishes its headers", async () => {
    const { api, base } = await start();
    const startedAt = Date.now();
    const answer = await raw(api.address.port, "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - startedAt).toBeLessThan(9_000);
    expect((await fetch(`${base}/api/status`)).status).toBe(200);
  }, 15_000);

  it("answers many parallel requests", async () => {
    const { base, backend } = await start();
    // below the server's cap of 256 connections: fetch opens one per request in flight
    const paths = Array.from({ length: 200 }, (_, i) => ["/api/status", "/api/heartbeat/status", "/metrics"][i % 3]);
    const statuses = await Promise.all(paths.map(async (path) => (await fetch(`${base}${path}`)).status));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const posts = await Promise.all(
      Array.from({ length: 50 }, async () => (await fetch(`${base}/api/services/api/restart`, { method: "POST", headers: bearer() })).status),
    );
    expect(posts.every((s) => s === 202)).toBe(true);
    expect(backend.calls).toHaveLength(50);
  });

  it("answers /api/status and /metrics while idle and slowloris connections fill it, closing the worst of them", async () => {
    const { api, base } = await start();
    const target = { port: api.address.port, host: "127.0.0.1" };
    // connections that say nothing, and connections that never finish their headers, each reopened when closed
    const idle = await Crowd.open(target, MAX_HTTP_CONNECTIONS / 2 + 2, { refill: true });
    const slow = await Crowd.open(target, MAX_HTTP_CONNECTIONS / 2 + 2, { refill: true, greeting: "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n" });
    try {
      for (const path of ["/api/status", "/metrics", "/api/status"]) {
        const res = await fetch(`${base}${path}`, { headers: { connection: "close" } });
        expect(res.status).toBe(200);
        await res.text();
      }
      expect(api.stats().evicted).toBeGreaterThanOrEqual(3);
      expect(api.stats().open).toBeLessThanOrEqual(MAX_HTTP_CONNECTIONS);
    } finally {
      idle.close();
      slow.close();
    }
  });

  it("closes with a keep-alive connection open", async () => {
    const { api, base } = await start();
    await (await fetch(`${base}/api/status`)).text();
    await api.close();
    await expect(fetch(`${base}/api/status`)).rejects.toThrow();
  });
});
