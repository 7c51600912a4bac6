import type { ServiceDoc, StatusDocument } from "../control/status-document.js";
import { formatMs } from "../core/format.js";

const COLUMNS = ["NAME", "STATE", "HEALTH", "PID", "UPTIME", "RESTARTS", "LAST EXIT"] as const;

/** The status document as a table for people, within 80 columns for ordinary names. */
export function renderTable(doc: StatusDocument, nowWallMs: number): string {
  const rows = doc.services.map((s) => row(s, nowWallMs));
  const all = [COLUMNS as readonly string[], ...rows];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const lines = all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd());
  const sup = doc.supervisor;
  const header = `vigil pid ${sup.pid}, generation ${sup.generation}, ${sup.manifest}`;
  const error = sup.config_error ? `\nconfig error (running the previous version): ${sup.config_error}` : "";
  return `${header}${error}\n${lines.join("\n")}\n`;
}

function row(s: ServiceDoc, nowWallMs: number): string[] {
  const uptime = s.started_at && s.state === "running" ? formatMs(nowWallMs - Date.parse(s.started_at)) : "-";
  let exit = "-";
  if (s.last_exit) {
    const how = s.last_exit.signal ?? (s.last_exit.code === null ? "failed" : `code ${s.last_exit.code}`);
    exit = `${s.last_exit.reason} (${how})`;
  }
  let state: string = s.state;
  if (s.state === "backoff" && s.next_restart_at) state = `backoff ${formatMs(Math.max(0, Date.parse(s.next_restart_at) - nowWallMs))}`;
  if (s.waiting_for.length > 0) state = `waiting (${s.waiting_for.join(",")})`;
  return [s.name, state, s.health, s.pid === null ? "-" : String(s.pid), uptime, String(s.restarts), exit];
}
