// Prometheus metrics. A private prom-client registry carries the supervisor-wide gauges and the process's
// default metrics; the per-service families (~26 series a service) are rendered straight from one snapshot
// of the backend, because prom-client's label hashing and formatting cost ~75 ms a scrape at 1,000 services.
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { ServiceDoc, StatusDocument } from "../../control/status-document.js";
import { EXIT_REASONS, HEALTHS, SERVICE_STATES, type ExitReason } from "../../core/types.js";
import type { ApiBackend } from "./backend.js";
import { PING_STATES } from "../../core/ping.js";

export interface MetricsExporter {
  readonly contentType: string;
  /** the exposition text of one scrape */
  scrape(): Promise<string>;
}

interface ServiceView {
  readonly doc: ServiceDoc;
  readonly restarts: Readonly<Partial<Record<ExitReason, number>>>;
  readonly beatAgeMs: number | null;
}

type Emit = (extraLabels: string, value: number) => void;

interface ServiceFamily {
  readonly name: string;
  readonly type: "gauge" | "counter";
  readonly help: string;
  /** emits the service's series; `extraLabels` is "" or pre-rendered `,name="value"` pairs */
  readonly series: (view: ServiceView, emit: Emit) => void;
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

const labelPairs = <T extends string>(label: string, values: readonly T[]): readonly (readonly [T, string])[] =>
  values.map((value) => [value, `,${label}="${value}"`] as const);
const STATE_LABELS = labelPairs("state", SERVICE_STATES);
const HEALTH_LABELS = labelPairs("health", HEALTHS);
const REASON_LABELS = labelPairs("reason", EXIT_REASONS);
const PROBE_LABELS = labelPairs("probe", ["liveness", "readiness"] as const);

const SERVICE_FAMILIES: readonly ServiceFamily[] = [
  {
    name: "vigil_service_up", type: "gauge", help: "1 while the service is running",
    series: ({ doc }, emit) => emit("", doc.state === "running" ? 1 : 0),
  },
  {
    name: "vigil_service_state", type: "gauge", help: "1 for the service's current state, 0 for the others",
    series: ({ doc }, emit) => { for (const [state, labels] of STATE_LABELS) emit(labels, doc.state === state ? 1 : 0); },
  },
  {
    name: "vigil_service_health", type: "gauge", help: "1 for the service's current health, 0 for the others",
    series: ({ doc }, emit) => { for (const [health, labels] of HEALTH_LABELS) emit(labels, doc.health === health ? 1 : 0); },
  },
  {
    name: "vigil_service_restarts_total", type: "counter", help: "restarts since the supervisor started, by reason",
    series: ({ restarts }, emit) => { for (const [reason, labels] of REASON_LABELS) emit(labels, restarts[reason] ?? 0); },
  },
  {
    name: "vigil_service_heartbeat_age_seconds", type: "gauge", help: "age of the last heartbeat",
    series: ({ beatAgeMs }, emit) => { if (beatAgeMs !== null) emit("", beatAgeMs / 1000); },
  },
  {
    name: "vigil_service_beats_total", type: "counter", help: "heartbeats received",
    series: ({ doc }, emit) => emit("", doc.beats),
  },
  {
    name: "vigil_service_rejected_messages_total", type: "counter", help: "messages refused for the service: wrong token, malformed",
    series: ({ doc }, emit) => emit("", doc.rejected_messages),
  },
  {
    name: "vigil_probe_up", type: "gauge", help: "1 while the probe passes, 0 while it fails; absent before its first verdict",
    series: ({ doc }, emit) => {
      for (const [probe, labels] of PROBE_LABELS) {
        const status = doc.probes?.[probe]?.status;
        if (status === "passing" || status === "failing") emit(labels, status === "passing" ? 1 : 0);
      }
    },
  },
  {
    name: "vigil_service_tasks_open", type: "gauge", help: "tasks the child reports open; absent for a service that has no tasks: and has reported none",
    series: ({ doc }, emit) => { if (doc.tasks) emit("", doc.tasks.open); },
  },
  {
    name: "vigil_service_cpu_percent", type: "gauge", help: "CPU use of the service's process tree, percent of one core",
    series: ({ doc }, emit) => { if (doc.cpu_percent !== null) emit("", doc.cpu_percent); },
  },
  {
    name: "vigil_service_memory_bytes", type: "gauge", help: "resident memory of the service's process tree",
    series: ({ doc }, emit) => { if (doc.memory_bytes !== null) emit("", doc.memory_bytes); },
  },
];

export function renderServiceFamilies(views: readonly ServiceView[]): string {
  const lines: string[] = [];
  const serviceLabels = views.map((view) => `{service="${escapeLabelValue(view.doc.service ?? view.doc.name)}",instance="${escapeLabelValue(view.doc.name)}"`);
  for (const family of SERVICE_FAMILIES) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    views.forEach((view, i) => {
      const head = `${family.name}${serviceLabels[i]}`;
      family.series(view, (extraLabels, value) => lines.push(`${head}${extraLabels}} ${formatValue(value)}`));
    });
  }
  return `${lines.join("\n")}\n`;
}

function serviceViews(status: StatusDocument, backend: ApiBackend): ServiceView[] {
  const restarts = backend.restartCounts();
  const beatAges = new Map<string, number | null>();
  for (const h of backend.heartbeatStatus().services) beatAges.set(h.name, h.beat_age_ms);
  return status.services.map((doc) => ({ doc, restarts: restarts[doc.name] ?? {}, beatAgeMs: beatAges.get(doc.name) ?? null }));
}

/** left out of the default process metrics: sum(vigil_nodejs_active_handles) and so on give them */
export const DEFAULT_TOTAL_GAUGES = ["vigil_nodejs_active_handles_total", "vigil_nodejs_active_requests_total", "vigil_nodejs_active_resources_total"] as const;

export function createMetrics(backend: ApiBackend): MetricsExporter {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "vigil_" });
  // gauges that prom-client names *_total, which Prometheus keeps for counters (promtool check metrics
  // rejects them); each is the sum over `type` of the gauge of the same name without the suffix
  for (const name of DEFAULT_TOTAL_GAUGES) registry.removeSingleMetric(name);
  const registers = [registry];
  new Gauge({ name: "vigil_up", help: "1 while the supervisor answers", registers }).set(1);
  const generation = new Gauge({ name: "vigil_supervisor_generation", help: "manifests applied since start (1 at start)", registers });
  const rejected = new Counter({ name: "vigil_rejected_messages_total", help: "heartbeat input refused since start", registers });
  const alerts = new Counter({
    name: "vigil_alerts_total",
    help: "alerts by outcome: delivered, failed (after retries), dropped (queue full), folded into a later message",
    labelNames: ["outcome"],
    registers,
  });
  const alertsInFlight = new Gauge({ name: "vigil_alerts_in_flight", help: "alert deliveries under way", registers });
  const connections = new Gauge({ name: "vigil_connections", help: "open connections per socket of the supervisor", labelNames: ["socket"], registers });
  const closed = new Counter({
    name: "vigil_connections_closed_total",
    help: "connections the supervisor closed: evicted (to make room for a newcomer), idle, rejected (after rejected input)",
    labelNames: ["socket", "reason"],
    registers,
  });
  const hostCpu = new Gauge({ name: "vigil_host_cpu_percent", help: "host CPU use, all cores together, 0..100", registers });
  const hostMem = new Gauge({ name: "vigil_host_memory_bytes", help: "host memory", labelNames: ["kind"], registers });
  const hostDisk = new Gauge({ name: "vigil_host_disk_used_percent", help: "use of the disk holding the state directory (or checks.disk.path)", registers });
  const pingState = new Gauge({ name: "vigil_ping_state", help: "1 for a ping: check's current state (new, up, late, down), 0 for the others", labelNames: ["check", "state"], registers });
  const pingAge = new Gauge({ name: "vigil_ping_age_seconds", help: "age of a ping: check's last ping; absent before its first", labelNames: ["check"], registers });
  const unmanaged = new Gauge({ name: "vigil_unmanaged_beaters", help: "names beating without a service (heartbeat.unmanaged)", registers });
  return {
    contentType: registry.contentType,
    async scrape() {
      const status = backend.status();
      const services = renderServiceFamilies(serviceViews(status, backend));
      generation.set(status.supervisor.generation);
      rejected.reset();
      rejected.inc(status.supervisor.rejected_messages);
      const a = backend.alertCounters();
      alerts.reset();
      for (const outcome of ["delivered", "failed", "dropped", "folded"] as const) alerts.inc({ outcome }, a[outcome]);
      alertsInFlight.set(a.inFlight);
      connections.reset();
      closed.reset();
      for (const [socket, stats] of Object.entries(status.supervisor.connections ?? {})) {
        if (!stats) continue;
        connections.set({ socket }, stats.open);
        closed.inc({ socket, reason: "evicted" }, stats.evicted);
        closed.inc({ socket, reason: "idle" }, stats.idle_closed);
        closed.inc({ socket, reason: "rejected" }, stats.reject_closed);
      }
      const host = status.supervisor.host;
      hostCpu.reset();
      hostMem.reset();
      hostDisk.reset();
      if (host) {
        hostCpu.set(host.cpu_percent);
        hostMem.set({ kind: "total" }, host.mem_total_bytes);
        hostMem.set({ kind: "available" }, host.mem_available_bytes);
        if (host.disk) hostDisk.set(host.disk.used_percent);
      }
      pingState.reset();
      pingAge.reset();
      for (const ping of status.pings ?? []) {
        for (const state of PING_STATES) pingState.set({ check: ping.name, state }, ping.state === state ? 1 : 0);
        if (ping.last_ping_at !== null) pingAge.set({ check: ping.name }, Math.max(0, Date.now() - Date.parse(ping.last_ping_at)) / 1000);
      }
      unmanaged.set(status.unmanaged?.length ?? 0);
      return `${await registry.metrics()}\n${services}`;
    },
  };
}
