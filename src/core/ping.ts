// A dead man's switch (healthchecks.io's model): a check that expects a ping by a time, and is late when
// that time passes, down when its grace has passed too, or at once when a ping says the job failed.
// Pure: times are wall-clock milliseconds passed in (a cron schedule is wall time); when the next ping is
// due is computed by the caller (every: now + every; cron: croner's next time after now).
import type { Health } from "./types.js";

export const PING_STATES = ["new", "up", "late", "down"] as const;
export type PingStatus = (typeof PING_STATES)[number];

/** what a ping says: the job ran (success), began (start), failed, or ended with an exit status */
export type PingSignal = { readonly kind: "success" } | { readonly kind: "start" } | { readonly kind: "fail" } | { readonly kind: "exit"; readonly code: number };

export interface PingState {
  readonly status: PingStatus;
  readonly pings: number;
  readonly failures: number;
  readonly lastPingWallMs: number | null;
  /** a start not yet followed by its end */
  readonly startedWallMs: number | null;
  /** from the last start to the end that followed it */
  readonly lastDurationMs: number | null;
  readonly lastExitCode: number | null;
  /** when the next ping is expected; late after it, down after it + grace */
  readonly dueWallMs: number;
  /** counts every new deadline: a timer of an earlier one means nothing */
  readonly seq: number;
}

export function newPingState(dueWallMs: number): PingState {
  return { status: "new", pings: 0, failures: 0, lastPingWallMs: null, startedWallMs: null, lastDurationMs: null, lastExitCode: null, dueWallMs, seq: 0 };
}

/** A ping came: the state after it; a start changes nothing of the status or deadline. */
export function pingReceived(s: PingState, signal: PingSignal, nowWallMs: number, nextDueWallMs: number): PingState {
  if (signal.kind === "start") return { ...s, startedWallMs: nowWallMs };
  const failed = signal.kind === "fail" || (signal.kind === "exit" && signal.code !== 0);
  return {
    ...s,
    status: failed ? "down" : "up",
    pings: s.pings + 1,
    failures: failed ? s.failures + 1 : s.failures,
    lastPingWallMs: nowWallMs,
    startedWallMs: null,
    lastDurationMs: s.startedWallMs === null ? null : nowWallMs - s.startedWallMs,
    lastExitCode: signal.kind === "exit" ? signal.code : failed ? null : 0,
    dueWallMs: nextDueWallMs,
    seq: s.seq + 1,
  };
}

/** When the check's timer should next fire: at its due time, then at due + grace; null once down. */
export function nextCheckWallMs(s: PingState, graceMs: number): number | null {
  if (s.status === "down") return null;
  if (s.status === "late") return s.dueWallMs + graceMs;
  return s.dueWallMs;
}

/** The check's timer fired at `nowWallMs`: late once past due, down once past due + grace. */
export function pingChecked(s: PingState, nowWallMs: number, graceMs: number): PingState {
  if (s.status === "down") return s;
  if (nowWallMs >= s.dueWallMs + graceMs) return { ...s, status: "down", failures: s.failures + 1 };
  if (nowWallMs >= s.dueWallMs && s.status !== "late") return { ...s, status: "late" };
  return s;
}

export function pingHealth(status: PingStatus): Health {
  switch (status) {
    case "new":
      return "unknown";
    case "up":
      return "healthy";
    case "late":
      return "degraded";
    case "down":
      return "failed";
  }
}

/** `/ping/NAME[/start|/fail|/CODE]`: the signal of the path's last part; null when it is none of these. */
export function pingSignalOf(suffix: string | undefined): PingSignal | null {
  if (suffix === undefined || suffix === "") return { kind: "success" };
  if (suffix === "start") return { kind: "start" };
  if (suffix === "fail") return { kind: "fail" };
  if (/^\d{1,3}$/.test(suffix) && Number(suffix) <= 255) return { kind: "exit", code: Number(suffix) };
  return null;
}
