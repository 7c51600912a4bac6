import { afterEach, describe, expect, it } from "vitest";
import type { ServiceDoc, StatusDocument, SupervisorDoc } from "../../../src/control/status-document.js";
import { silentLogger } from "../../../src/runtime/outputs/logger.js";
import type { ApiBackend, HeartbeatStatusDoc, RestartCounts } from "../../../src/runtime/http/backend.js";
import { createMetrics } from "../../../src/runtime/http/metrics.js";
import { startHttpApi, type HttpApi } from "../../../src/runtime/http/server.js";

// ---- a strict reader of the Prometheus text exposition format 0.0.4 ----

type Labels = Record<string, string>;
interface Sample { readonly name: string; readonly labels: Labels; readonly value: number }
interface Family { readonly name: string; type: string | null; help: string | null; readonly samples: Sample[] }

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ["_bucket", "_sum", "_count"], summary: ["_sum", "_count", ""], counter: [""], gauge: [""], untyped: [""],
};

/** as Prometheus reads it (Go's strconv.ParseFloat): NaN and Inf in any case; prom-client writes "Nan" */
function parseValue(text: string, line: string): number {
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value ${JSON.stringify(text)} in: ${line}`);
  return Number(text);
}

/** label values allow exactly \\, \" and \n as escapes */
function parseLabels(text: string, line: string): { labels: Labels; rest: string } {
  const labels: Labels = {};
  let i = 1; // after "{"
  while (text[i] !== "}") {
    const eq = text.indexOf("=", i);
    const name = text.slice(i, eq);
    if (eq < 0 || !LABEL_NAME.test(name)) throw new Error(`bad label name in: ${line}`);
    if (name in labels) throw new Error(`label ${name} twice in: ${line}`);
    if (text[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`);
    let value = "";
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined || c === "\n") throw new Error(`unterminated label value in: ${line}`);
      if (c === '"') break;
      if (c === "\\") {
        const e = text[j + 1];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else throw new Error(`bad escape \\${e} in: ${line}`);
        j += 2;
      } else {
        value += c;
        j += 1;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i += 1;
    else if (text[i] !== "}") throw new Error(`expected , or } in: ${line}`);
  }
  return { labels, rest: text.slice(i + 1) };
}

function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: null, help: null, samples: [] }));
    return f;
  };
  const seen = new Set<string>();
  let current: Family | null = null;
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name = "", rest = ""] = meta;
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const f = family(name);
      if (f.samples.length > 0) throw new Error(`${kind} after samples of ${name}`);
      if (kind === "TYPE") {
        if (f.type !== null) throw new Error(`second TYPE for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`unknown type in: ${line}`);
        f.type = rest;
      } else {
        if (f.help !== null) throw new Error(`second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) throw new Error(`bad escape in HELP: ${line}`);
        f.help = rest;
      }
      current = f;
      continue;
    }
    if (line.startsWith("#")) continue;
    const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (!head?.[1]) throw new Error(`bad sample line: ${line}`);
    const name = head[1];
    let rest = line.slice(name.length);
    let labels: Labels = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, line));
    const fields = /^ (\S+)( -?\d+)?$/.exec(rest);
    if (!fields?.[1]) throw new Error(`bad value part in: ${line}`);
    const owner = current && current.type && SUFFIXES[current.type]?.some((s) => `${current!.name}${s}` === name) ? current : null;
    if (!owner) throw new Error(`sample ${name} outside of a family announced by TYPE`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`duplicate series: ${line}`);
    seen.add(key);
    owner.samples.push({ name, labels, value: parseValue(fields[1], line) });
  }
  for (const f of families.values()) {
    if (f.type === null) throw new Error(`family ${f.name} has no TYPE`);
    if (f.type === "counter" && !f.name.endsWith("_total")) throw new Error(`counter ${f.name} does not end in _total`);
  }
  return families;
}

function value(families: Map<string, Family>, name: string, labels: Labels = {}): number | undefined {
  const match = families.get(name)?.samples.find((s) => JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
  return match?.value;
}

// ---- a fake backend ----

function service(name: string, fields: Partial<ServiceDoc> = {}): ServiceDoc {
  return {
    name, service: name, instance: 0, state: "running", health: "unknown", pid: 4123, restarts: 0, started_at: null, last_beat_at: null, beats: 0,
    last_beat_data: null, cpu_percent: null, memory_bytes: null, last_exit: null, next_restart_at: null, command: "node app.js",
    waiting_for: [], own_cpu_percent: null, own_memory_bytes: null, processes: null, probes: null, rejected_messages: 0, status_text: null, ...fields,
  };
}

class FakeBackend implements ApiBackend {
  connections: SupervisorDoc["connections"] = null;
  services: ServiceDoc[] = [
    service("api", { health: "healthy", beats: 1870, rejected_messages: 2, cpu_percent: 1.5, memory_bytes: 48_234_496, restarts: 3 }),
    service("worker", { state: "backoff", pid: null }),
  ];
  restarts: RestartCounts = { api: { exit: 2, heartbeat: 1 } };
  heartbeats: HeartbeatStatusDoc["services"] = [
    { name: "api", health: "healthy", last_beat_at: "2026-01-01T00:00:00.000Z", beat_age_ms: 250, interval_ms: 1000, misses: 3 },
  ];
  status(): StatusDocument {
    return {
      supervisor: {
        pid: 1, started_at: "2026-01-01T00:00:00.000Z", manifest: "/m.yaml", generation: 3, config_error: null,
        state_dir: "/state", stopping: false, rejected_messages: 5, host: null, problems: [], connections: this.connections, process_backend: null,
      },
      services: this.services,
    };
  }
  heartbeatStatus(): HeartbeatStatusDoc {
    return { monitor: { running: true, watched: this.heartbeats.length, healthy: 1, degraded: 0, critical: 0, failed: 0 }, services: this.heartbeats };
  }
  control(): void {}
  restartCounts(): RestartCounts {
    return this.restarts;
  }
  alerts = { delivered: 0, failed: 0, dropped: 0, retries: 0, folded: 0, inFlight: 0, queued: 0 };
  alertCounters() {
    return this.alerts;
  }
}

const servers: HttpApi[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function scrapeOverHttp(backend: ApiBackend): Promise<Map<string, Family>> {
  const api = await startHttpApi({ host: "127.0.0.1", port: 0, tokenEnv: null }, backend, silentLogger, {});
  servers.push(api);
  const res = await fetch(`http://127.0.0.1:${api.address.port}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

describe("the strict exposition parser", () => {
  it("rejects what Prometheus would reject", () => {
    expect(() => parseExposition("x 1\n")).toThrow(/outside of a family/);
    expect(() => parseExposition("# TYPE x_total counter\nx_total{a=\"\\t\"} 1\n")).toThrow(/bad escape/);
    expect(() => parseExposition("# TYPE x counter\nx 1\n")).toThrow(/does not end in _total/);
    expect(() => parseExposition("# TYPE x gauge\nx one\n")).toThrow(/bad value/);
    expect(() => parseExposition("# TYPE x gauge\nx 1\nx 2\n")).toThrow(/duplicate series/);
  });
});

describe("/metrics", () => {
  it("is valid Prometheus text with the supervisor's values", async () => {
    const m = await scrapeOverHttp(new FakeBackend());
    expect(value(m, "vigil_up")).toBe(1);
    expect(value(m, "vigil_supervisor_generation")).toBe(3);
    expect(value(m, "vigil_rejected_messages_total")).toBe(5);
    expect(value(m, "vigil_service_up", { service: "api", instance: "api" })).toBe(1);
    expect(value(m, "vigil_service_up", { service: "worker", instance: "worker" })).toBe(0);
    expect(value(m, "vigil_service_rejected_messages_total", { service: "api", instance: "api" })).toBe(2);
    expect(value(m, "vigil_service_beats_total", { service: "api", instance: "api" })).toBe(1870);
    expect(value(m, "vigil_service_heartbeat_age_seconds", { service: "api", instance: "api" })).toBe(0.25);
    expect(value(m, "vigil_service_cpu_percent", { service: "api", instance: "api" })).toBe(1.5);
    expect(value(m, "vigil_service_memory_bytes", { service: "api", instance: "api" })).toBe(48_234_496);
  });

  it("counts the open connections of each socket and those the supervisor closed, by reason", async () => {
    const backend = new FakeBackend();
    const stats = (open: number, evicted: number) => ({ open, evicted, idle_closed: 2, reject_closed: 1 });
    backend.connections = { heartbeat: stats(12, 40), control: stats(1, 0), http: null };
    const m = await scrapeOverHttp(backend);
    expect(value(m, "vigil_connections", { socket: "heartbeat" })).toBe(12);
    expect(value(m, "vigil_connections", { socket: "control" })).toBe(1);
    expect(value(m, "vigil_connections_closed_total", { socket: "heartbeat", reason: "evicted" })).toBe(40);
    expect(value(m, "vigil_connections_closed_total", { socket: "control", reason: "idle" })).toBe(2);
    expect(value(m, "vigil_connections_closed_total", { socket: "control", reason: "rejected" })).toBe(1);
    expect(m.get("vigil_connections")?.samples.some((s) => s.labels["socket"] === "http")).toBe(false);
  });

  it("reports state and health as state sets: 1 for the current one, 0 for the others", async () => {
    const m = await scrapeOverHttp(new FakeBackend());
    const ones = (family: string, label: string) =>
      m.get(family)!.samples.filter((s) => s.value === 1).map((s) => `${s.labels["service"]}=${s.labels[label]}`).sort();
    expect(ones("vigil_service_state", "state")).toEqual(["api=running", "worker=backoff"]);
    expect(ones("vigil_service_health", "health")).toEqual(["api=healthy", "worker=unknown"]);
    expect(m.get("vigil_service_state")!.samples).toHaveLength(2 * 7);
    expect(m.get("vigil_service_health")!.samples).toHaveLength(2 * 5);
    expect(m.get("vigil_service_state")!.type).toBe("gauge");
  });

  it("counts restarts by reason, every reason present from 0", async () => {
    const m = await scrapeOverHttp(new FakeBackend());
    expect(m.get("vigil_service_restarts_total")!.type).toBe("counter");
    expect(value(m, "vigil_service_restarts_total", { service: "api", instance: "api", reason: "exit" })).toBe(2);
    expect(value(m, "vigil_service_restarts_total", { service: "api", instance: "api", reason: "heartbeat" })).toBe(1);
    expect(value(m, "vigil_service_restarts_total", { service: "api", instance: "api", reason: "manual" })).toBe(0);
    expect(m.get("vigil_service_restarts_total")!.samples.filter((s) => s.labels["service"] === "worker").map((s) => s.value))
      .toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("leaves out what is not known: CPU and memory not sampled, no beat yet", async () => {
    const m = await scrapeOverHttp(new FakeBackend());
    for (const family of ["vigil_service_cpu_percent", "vigil_service_memory_bytes", "vigil_service_heartbeat_age_seconds"]) {
      expect(m.get(family)!.samples.map((s) => s.labels["service"])).toEqual(["api"]);
    }
  });

  it("includes the supervisor's own process metrics", async () => {
    const m = await scrapeOverHttp(new FakeBackend());
    expect(value(m, "vigil_process_cpu_user_seconds_total")).toBeGreaterThanOrEqual(0);
    expect(value(m, "vigil_process_resident_memory_bytes")).toBeGreaterThan(0);
    expect([...m.keys()].some((name) => name.startsWith("vigil_nodejs_"))).toBe(true);
  });

  it("follows the backend between scrapes and drops the series of a removed service", async () => {
    const backend = new FakeBackend();
    const metrics = createMetrics(backend);
    parseExposition(await metrics.scrape());
    backend.services = [backend.services[0]!];
    backend.restarts = { api: { exit: 3, heartbeat: 1 } };
    const m = parseExposition(await metrics.scrape());
    expect(value(m, "vigil_service_restarts_total", { service: "api", instance: "api", reason: "exit" })).toBe(3);
    for (const f of m.values()) expect(f.samples.some((s) => s.labels["service"] === "worker")).toBe(false);
  });

  it("escapes label values", async () => {
    const backend = new FakeBackend();
    const weird = 'we"ird\\na\nme';
    backend.services = [service(weird, { memory_bytes: 1 })];
    const m = parseExposition(await createMetrics(backend).scrape());
    expect(value(m, "vigil_service_memory_bytes", { service: weird, instance: weird })).toBe(1);
  });

  // how long a scrape takes is a figure for a bench, not a test's bound: this one checks that every series
  // of 1,000 services is there, in one text
  it("scrapes 1,000 services, every series of each", async () => {
    const backend = new FakeBackend();
    backend.services = Array.from({ length: 1000 }, (_, i) =>
      service(`svc-${i}`, { health: "healthy", beats: i, cpu_percent: 0.5, memory_bytes: 1_000_000 + i }));
    backend.heartbeats = backend.services.map((s) => ({ name: s.name, health: "healthy", last_beat_at: null, beat_age_ms: 100, interval_ms: 1000, misses: 3 }));
    backend.restarts = Object.fromEntries(backend.services.map((s) => [s.name, { exit: 1 }]));
    const m = parseExposition(await createMetrics(backend).scrape());
    expect(m.get("vigil_service_state")!.samples).toHaveLength(7000);
    expect(value(m, "vigil_service_beats_total", { service: "svc-999", instance: "svc-999" })).toBe(999);
    expect(value(m, "vigil_service_memory_bytes", { service: "svc-500", instance: "svc-500" })).toBe(1_000_500);
    expect(value(m, "vigil_service_restarts_total", { service: "svc-0", instance: "svc-0", reason: "exit" })).toBe(1);
  });
});
