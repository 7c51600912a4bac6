// Resource limits (SPEC §2 `limits`): a service is over its limit only when every sample for `for` was.
import type { LimitsConfig } from "../manifest/types.js";
import { formatMs } from "./format.js";

export type LimitKind = "memory" | "cpu";

/** A run of consecutive over-limit samples: when it began and the latest figure. */
export interface OverRun {
  readonly sinceMs: number;
  readonly measured: number;
}

export interface LimitState {
  readonly memory: OverRun | null;
  readonly cpu: OverRun | null;
}

export interface LimitSample {
  /** monotonic */
  readonly atMs: number;
  /** percent of one core, tree total; null while not yet known (the first sample of a process) */
  readonly cpuPercent: number | null;
  /** tree total */
  readonly rssBytes: number;
}

export interface LimitBreach {
  readonly kind: LimitKind;
  readonly measured: number;
  readonly limit: number;
  readonly overForMs: number;
}

export interface LimitJudgement {
  readonly state: LimitState;
  readonly breach: LimitBreach | null;
}

export const NO_OVER_RUN: LimitState = { memory: null, cpu: null };

/**
 * Feeds one sample. A breach needs every sample since the first over-limit one to be over too, for at
 * least limits.forMs; one sample at or under the limit ends the run. A cpu figure of null neither counts
 * nor resets. After a breach both runs start anew, so one long run gives one breach per `for`.
 * Memory is judged first: when both are over, memory is the reason.
 */
export function judgeLimits(
  state: LimitState | undefined,
  sample: LimitSample,
  limits: LimitsConfig,
): LimitJudgement {
  const previous = state ?? NO_OVER_RUN;
  const memory = nextRun(previous.memory, sample.rssBytes, limits.memoryBytes, sample.atMs);
  const cpu = nextRun(previous.cpu, sample.cpuPercent, limits.cpuPercent, sample.atMs);
  const breach =
    breachOf("memory", memory, limits.memoryBytes, limits.forMs, sample.atMs) ??
    breachOf("cpu", cpu, limits.cpuPercent, limits.forMs, sample.atMs);
  if (breach) return { state: NO_OVER_RUN, breach };
  return { state: { memory, cpu }, breach: null };
}

function nextRun(run: OverRun | null, measured: number | null, limit: number | null, atMs: number): OverRun | null {
  if (limit === null) return null;
  if (measured === null) return run;
  if (measured <= limit) return null;
  return { sinceMs: run?.sinceMs ?? atMs, measured };
}

function breachOf(
  kind: LimitKind,
  run: OverRun | null,
  limit: number | null,
  forMs: number,
  atMs: number,
): LimitBreach | null {
  if (run === null || limit === null) return null;
  const overForMs = atMs - run.sinceMs;
  return overForMs >= forMs ? { kind, measured: run.measured, limit, overForMs } : null;
}

/** "memory 612MiB over limit 512MiB for 30s", "cpu 180% over limit 95% for 30s" */
export function formatBreach(breach: LimitBreach): string {
  const show = breach.kind === "memory" ? formatBytes : formatPercent;
  return `${breach.kind} ${show(breach.measured)} over limit ${show(breach.limit)} for ${formatMs(breach.overForMs)}`;
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** 512 → "512B", 641728512 → "612MiB", 1.5 GiB → "1.5GiB": sizes as the manifest writes them. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${oneDecimalBelowTen(value)}${BYTE_UNITS[unit]}`;
}

/** 180 → "180%", 95.5 → "95.5%", 7.25 → "7.3%" */
export function formatPercent(percent: number): string {
  return `${oneDecimalBelowTen(percent, 100)}%`;
}

function oneDecimalBelowTen(value: number, wholeFrom = 10): string {
  if (Math.abs(value) >= wholeFrom) return String(Math.round(value));
  const fixed = value.toFixed(1);
  return fixed.endsWith(".0") ? fixed.slice(0, -2) : fixed;
}
