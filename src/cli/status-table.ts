import type { ServiceDoc, StatusDocument } from "../control/status-document.js";
import type { Health, ServiceState } from "../core/types.js";
import { formatMs } from "../core/format.js";

const COLUMNS = ["NAME", "STATE", "HEALTH", "PID", "UPTIME", "RESTARTS", "CPU", "MEM", "BEAT", "LAST EXIT"] as const;
const WIDTH = 80;

const GREEN = 32;
const YELLOW = 33;
const RED = 31;
const STATE_COLOR: Readonly<Record<ServiceState, number | null>> = {
  starting: YELLOW, running: GREEN, stopping: YELLOW, stopped: null, backoff: YELLOW, fatal: RED, exited: null,
};
const HEALTH_COLOR: Readonly<Record<Health, number | null>> = {
  healthy: GREEN, degraded: YELLOW, critical: RED, failed: RED, unknown: null,
};

export interface TableOptions {
  /** ANSI colours for state and health */
  readonly color?: boolean;
}

/** The status document as a table for people, within 80 columns for ordinary names. */
export function renderTable(doc: StatusDocument, nowWallMs: number, options: TableOptions = {}): string {
  const rows = doc.services.map((s) => row(s, nowWallMs));
  const all = [COLUMNS as readonly string[], ...rows];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  // two spaces between columns as far as 80 columns allow, from the left; one space after that
  const slack = WIDTH - widths.reduce((a, b) => a + b, 0) - (widths.length - 1);
  const gaps = widths.map((_, i) => (i < slack ? "  " : " "));
  const paint = (cell: string, i: number, s: ServiceDoc | undefined): string => {
    const code = !options.color || !s ? null : i === 1 ? STATE_COLOR[s.state] : i === 2 ? HEALTH_COLOR[s.health] : null;
    return code === null ? cell : `\x1b[${code}m${cell}\x1b[0m`;
  };
  const lines = all.map((r, n) => {
    const service = n === 0 ? undefined : doc.services[n - 1];
    const cells = r.map((cell, i) => {
      const padded = i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0);
      // colour the text only, so the padding stays plain and columns line up
      return paint(padded.trimEnd(), i, service) + padded.slice(padded.trimEnd().length);
    });
    return cells.map((cell, i) => (i === 0 ? cell : `${gaps[i - 1]}${cell}`)).join("").trimEnd();
  });
  const sup = doc.supervisor;
  const header = `vigil pid ${sup.pid}, generation ${sup.generation}, ${sup.manifest}${hostLine(doc)}`;
  const error = sup.config_error ? `\nconfig error (running the previous version): ${sup.config_error}` : "";
  return `${header}${error}${problemsLine(doc, nowWallMs)}\n${lines.join("\n")}\n${statusLines(doc)}${taskLines(doc)}${outsideLines(doc, nowWallMs)}`;
}

/** open tasks shown per instance under the table; `vigil status --json` and /tasks have them all */
const TASK_LINES = 5;

/** In-flight tasks below the table: a line per instance that reports tasks, then its oldest open ones. */
function taskLines(doc: StatusDocument): string {
  const busy = doc.services.filter((s) => s.tasks);
  if (busy.length === 0) return "";
  const clean = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ");
  const out: string[] = [];
  for (const s of busy) {
    const t = s.tasks!;
    const refused = t.rejected > 0 ? `, ${t.rejected} refused (over 1000 open)` : "";
    out.push(`${s.name}  tasks: ${t.open === 0 ? "idle" : `${t.open} open`}${refused}`);
    for (const task of t.in_flight.slice(0, TASK_LINES)) {
      const flags = [task.stale ? "stale" : "", task.timed_out ? "timed out" : ""].filter(Boolean).join(", ");
      const name = task.name === null ? "" : `  ${clean(task.name)}`;
      out.push(`  ${clean(task.id)}${name}  running ${formatMs(task.running_for_ms)}, idle ${formatMs(task.idle_for_ms)}${flags ? `  ${flags}` : ""}`);
    }
    if (t.open > TASK_LINES) out.push(`  … and ${t.open - TASK_LINES} more`);
  }
  return `${out.join("\n")}\n`;
}

/** `ping:` checks and beats of processes without a service, below the services. */
function outsideLines(doc: StatusDocument, nowWallMs: number): string {
  const lines: string[] = [];
  const ago = (iso: string | null): string => (iso === null ? "never" : `${formatAge(nowWallMs - Date.parse(iso))} ago`);
  for (const p of doc.pings ?? []) {
    const due = p.next_due_at === null ? "" : `, next by ${p.next_due_at}`;
    lines.push(`ping ${p.name}  ${p.state}  last ping ${ago(p.last_ping_at)}${p.last_exit_code !== null && p.last_exit_code !== 0 ? ` (exit ${p.last_exit_code})` : ""}${due}`);
  }
  if (doc.unmanaged && doc.unmanaged.length > 0) lines.push("unmanaged (beats without a service):");
  for (const u of doc.unmanaged ?? []) lines.push(`  ${u.name}  ${u.beats} beats, last ${formatAge(u.age_ms)} ago`);
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** What children said of themselves (`status` messages, STATUS=), one line each below the table. */
function statusLines(doc: StatusDocument): string {
  const said = doc.services.filter((s) => s.status_text);
  if (said.length === 0) return "";
  const width = Math.max(...said.map((s) => s.name.length));
  // a child's text is shown on one line, without terminal controls
  return said.map((s) => `${s.name.padEnd(width)}  says: ${(s.status_text ?? "").replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ")}\n`).join("");
}

/** "\nproblems: disk: cannot write status.json: no space left on device (ENOSPC), for 2m; …" */
function problemsLine(doc: StatusDocument, nowWallMs: number): string {
  // a supervisor from before the field has none to show
  const problems = doc.supervisor.problems ?? [];
  if (problems.length === 0) return "";
  return `\nproblems: ${problems.map((p) => `${p.kind}: ${p.message}, for ${formatAge(nowWallMs - Date.parse(p.since))}`).join("; ")}`;
}

function row(s: ServiceDoc, nowWallMs: number): string[] {
  const uptime = s.started_at && s.state === "running" ? formatAge(nowWallMs - Date.parse(s.started_at)) : "-";
  const beat = s.last_beat_at ? formatAge(nowWallMs - Date.parse(s.last_beat_at)) : "-";
  let state: string = s.state;
  if (s.state === "backoff" && s.next_restart_at) state = `backoff ${formatMs(Math.max(0, Date.parse(s.next_restart_at) - nowWallMs))}`;
  if (s.waiting_for.length > 0) state = `waiting (${s.waiting_for.join(",")})`;
  if (s.state === "stopped" && s.disabled === true) state = "stopped (disabled)";
  const schedule = s.schedule;
  if (schedule && !schedule.held && (s.state === "stopped" || s.state === "exited" || s.state === "fatal")) {
    const next = schedule.next_run_at === null ? "" : `, next run in ${formatMs(Math.max(0, Date.parse(schedule.next_run_at) - nowWallMs))}`;
    state = `${s.state === "fatal" ? "fatal" : "scheduled"}${next}`;
  }
  // a start-first restart: the new child beside the current one, or the replaced one being stopped
  const name = s.role === "new" || s.role === "old" ? `${s.name} (${s.role})` : s.name;
  return [
    name, state, s.health, s.pid === null ? "-" : String(s.pid), uptime, String(s.restarts),
    formatPercent(s.cpu_percent), formatBytes(s.memory_bytes), beat, lastExit(s),
  ];
}

/** `exit 1`, `exit SIGSEGV`, `heartbeat`, `memory`: why the child last ended, in one short word or two. */
function lastExit(s: ServiceDoc): string {
  const exit = s.last_exit;
  if (!exit) return "-";
  if (exit.error !== undefined) return "spawn failed";
  if (exit.reason !== "exit") return exit.reason;
  return `exit ${exit.signal ?? exit.code ?? "?"}`;
}

/** 4200 → "4s", 200000 → "3m", 7200000 → "2h", 3 days → "3d": an age at a glance; "-" when unknown. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** 1.53 → "1.5%", 12.46 → "12.5%", 151.2 → "151%". */
export function formatPercent(percent: number | null): string {
  if (percent === null || !Number.isFinite(percent)) return "-";
  const tenths = Math.round(percent * 10) / 10;
  return tenths >= 100 ? `${Math.round(percent)}%` : `${tenths.toFixed(1)}%`;
}

/** Binary units, as top shows them: 512 → "512B", 48234496 → "46M", 1288490188 → "1.2G". */
export function formatBytes(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes) || bytes < 0) return "-";
  const units = ["B", "K", "M", "G", "T"] as const;
  let value = bytes;
  let i = 0;
  while (i < units.length - 1 && Math.round(value) >= 1024) {
    value /= 1024;
    i++;
  }
  const text = i > 0 && value < 9.95 ? value.toFixed(1).replace(/\.0$/, "") : String(Math.round(value));
  return `${text}${units[i]}`;
}

/** "\nhost: cpu 12.5% of 2 cores, memory 3.1G of 24G free, disk 45% (/srv)" */
function hostLine(doc: StatusDocument): string {
  const h = doc.supervisor.host;
  if (!h) return "";
  const disk = h.disk ? `, disk ${h.disk.used_percent.toFixed(0)}% used (${h.disk.path})` : "";
  return `\nhost: cpu ${formatPercent(h.cpu_percent)} of ${h.cores} cores, memory ${formatBytes(h.mem_available_bytes)} of ${formatBytes(h.mem_total_bytes)} free${disk}`;
}
