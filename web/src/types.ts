// What the supervisor sends the page (src/runtime/http/live-feed.ts): the status document's parts, the
// layout of each service, events and output lines.

export type State = "starting" | "running" | "stopping" | "stopped" | "backoff" | "fatal" | "exited";
export type Health = "healthy" | "degraded" | "critical" | "failed" | "unknown";

export interface ProbeDoc {
  readonly status: string;
  readonly last_detail: string | null;
  readonly consecutive_failures: number;
  readonly checks: number;
}

export interface ResourcePoint {
  readonly at: string;
  readonly cpu_percent: number | null;
  readonly memory_bytes: number;
}

export interface ServiceDoc {
  readonly name: string;
  readonly service: string;
  readonly instance: number;
  readonly state: State;
  readonly health: Health;
  readonly pid: number | null;
  readonly restarts: number;
  readonly started_at: string | null;
  readonly last_beat_at: string | null;
  readonly beats: number;
  readonly cpu_percent: number | null;
  readonly memory_bytes: number | null;
  readonly last_exit: { code: number | null; signal: string | null; reason: string; at: string; error?: string } | null;
  readonly next_restart_at: string | null;
  readonly waiting_for: readonly string[];
  readonly processes: number | null;
  readonly probes: { liveness: ProbeDoc | null; readiness: ProbeDoc | null } | null;
  readonly status_text: string | null;
  readonly role?: "current" | "new" | "old";
  readonly rollover_error?: string | null;
  readonly disabled?: boolean;
  readonly schedule?: { cron: string; next_run_at: string | null; held: boolean } | null;
  readonly history?: readonly ResourcePoint[];
}

export interface HostDoc {
  readonly cpu_percent: number;
  readonly cores: number;
  readonly load_avg: readonly [number, number, number];
  readonly mem_total_bytes: number;
  readonly mem_available_bytes: number;
  readonly disk: { path: string; used_percent: number } | null;
}

export interface SupervisorDoc {
  readonly pid: number;
  readonly started_at: string;
  readonly manifest: string;
  readonly generation: number;
  readonly config_error: string | null;
  readonly stopping: boolean;
  readonly host: HostDoc | null;
  readonly problems: readonly { kind: string; message: string }[];
}

export interface ServiceLayout {
  readonly name: string;
  readonly depends_on: Readonly<Record<string, string>>;
  readonly replicas: number;
  readonly heartbeat: { interval_ms: number; misses: number } | null;
  readonly schedule: string | null;
  readonly disabled: boolean;
}

export interface EventDoc {
  readonly at: string;
  readonly service: string | null;
  readonly instance?: string | null;
  readonly kind: string;
  readonly level: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface Snapshot {
  readonly now: number;
  readonly actions: "token" | "disabled";
  readonly layout: readonly ServiceLayout[];
  readonly supervisor: SupervisorDoc;
  readonly services: readonly ServiceDoc[];
  readonly events: readonly EventDoc[];
  /** the events follow those the page has (a snapshot after a reload), rather than replace them */
  readonly append?: boolean;
}

export interface Update {
  readonly now: number;
  /** null: unchanged (it came in the status frame before) */
  readonly supervisor: SupervisorDoc | null;
  readonly services: readonly ServiceDoc[];
  readonly events: readonly EventDoc[];
}

export interface LogLine {
  readonly at: number;
  readonly stream: "out" | "err";
  readonly text: string;
}

export interface LogFrame {
  readonly instance: string;
  readonly reset?: boolean;
  readonly dropped?: number;
  readonly lines: readonly LogLine[];
}
