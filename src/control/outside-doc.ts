// The status document's parts for what vigil watches without running it: `pings` (the `ping:` checks)
// and `unmanaged` (beats of processes without a service). Each is present only when configured.
import type { PingStatus } from "../core/ping.js";
import { pingHealth } from "../core/ping.js";
import type { StackState } from "../core/stack/state.js";
import type { Health } from "../core/types.js";
import { hostHealth } from "../core/stack/host-checks.js";

export interface PingDoc {
  readonly name: string;
  /** new (no ping yet), up, late (past its time), down (past its grace, or a failure reported) */
  readonly state: PingStatus;
  readonly health: Health;
  readonly pings: number;
  readonly failures: number;
  readonly last_ping_at: string | null;
  /** a start not yet followed by its end */
  readonly started_at: string | null;
  readonly last_duration_ms: number | null;
  readonly last_exit_code: number | null;
  /** when the next ping is expected; late after it, down after it + grace */
  readonly next_due_at: string | null;
  readonly grace_ms: number;
  readonly every_ms: number | null;
  readonly cron: string | null;
}

export interface UnmanagedDoc {
  readonly name: string;
  readonly last_beat_at: string;
  readonly age_ms: number;
  readonly beats: number;
  readonly last_beat_data: unknown;
}

export interface OutsideDocs {
  /** the host checks as health levels: unknown where one is not configured */
  readonly checks?: { readonly disk: Health; readonly cpu: Health; readonly memory: Health };
  readonly pings?: readonly PingDoc[];
  readonly unmanaged?: readonly UnmanagedDoc[];
  /** unmanaged beats refused because heartbeat.max names were listed already */
  readonly unmanaged_refused?: number;
}

const iso = (wallMs: number | null): string | null => (wallMs === null || !Number.isFinite(wallMs) ? null : new Date(wallMs).toISOString());

export function outsideDocs(state: StackState, nowMs: number): OutsideDocs {
  const docs: { checks?: OutsideDocs["checks"]; pings?: PingDoc[]; unmanaged?: UnmanagedDoc[]; unmanaged_refused?: number } = {};
  const { checks } = state.manifest;
  if (checks.cpu || checks.memory) docs.checks = hostHealth(state);
  if (state.pings.size > 0) {
    docs.pings = [...state.pings.values()].map(({ config, state: s }) => ({
      name: config.name,
      state: s?.status ?? "new",
      health: pingHealth(s?.status ?? "new"),
      pings: s?.pings ?? 0,
      failures: s?.failures ?? 0,
      last_ping_at: iso(s?.lastPingWallMs ?? null),
      started_at: iso(s?.startedWallMs ?? null),
      last_duration_ms: s?.lastDurationMs ?? null,
      last_exit_code: s?.lastExitCode ?? null,
      next_due_at: iso(s?.dueWallMs ?? null),
      grace_ms: config.graceMs,
      every_ms: config.everyMs,
      cron: config.cron,
    }));
  }
  if (state.manifest.unmanaged) {
    docs.unmanaged = [...state.unmanaged.byName.values()].map((b) => ({
      name: b.name,
      last_beat_at: new Date(b.lastWallMs).toISOString(),
      age_ms: Math.max(0, nowMs - b.lastMs),
      beats: b.beats,
      last_beat_data: b.data,
    }));
    docs.unmanaged_refused = state.unmanaged.refused;
  }
  return docs;
}

/** the parts as JSON members to append inside the document's braces: "" when there are none */
export function outsideJson(docs: OutsideDocs): string {
  let text = "";
  if (docs.checks) text += `,"checks":${JSON.stringify(docs.checks)}`;
  if (docs.pings) text += `,"pings":${JSON.stringify(docs.pings)}`;
  if (docs.unmanaged) text += `,"unmanaged":${JSON.stringify(docs.unmanaged)},"unmanaged_refused":${docs.unmanaged_refused ?? 0}`;
  return text;
}
