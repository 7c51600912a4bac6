// Beats of processes that have no service (001's "additional heartbeat processes"): with the top-level
// `heartbeat: { unmanaged: true, token_env }`, a beat naming no service but carrying that token is kept
// by its name, listed in status under `unmanaged` with its age, and dropped once it is older than
// `expire_after`. At most `max` names are kept; beats of more are refused and counted.
import type { Turn } from "./turn.js";
import type { TimerKey } from "./effects.js";

export interface UnmanagedBeat {
  readonly name: string;
  beats: number;
  firstWallMs: number;
  lastWallMs: number;
  /** monotonic, for the age and the expiry */
  lastMs: number;
  data: unknown;
}

export interface UnmanagedBook {
  readonly byName: Map<string, UnmanagedBeat>;
  /** beats refused because `max` names were kept already */
  refused: number;
  /** the expiry timer is armed for this monotonic time; null when none is */
  sweepAtMs: number | null;
}

export function newUnmanagedBook(): UnmanagedBook {
  return { byName: new Map(), refused: 0, sweepAtMs: null };
}

export const UNMANAGED_TIMER: TimerKey = { id: "", incarnation: 0, kind: "unmanaged" };

export function unmanagedBeat(t: Turn, name: string, data: unknown): void {
  const config = t.state.manifest.unmanaged;
  if (!config) return;
  const book = t.state.unmanaged;
  const known = book.byName.get(name);
  if (known) {
    known.beats++;
    known.lastWallMs = t.ctx.wallMs;
    known.lastMs = t.nowMs;
    if (data !== undefined) known.data = data;
    return;
  }
  if (book.byName.size >= config.max) {
    book.refused++;
    return;
  }
  book.byName.set(name, { name, beats: 1, firstWallMs: t.ctx.wallMs, lastWallMs: t.ctx.wallMs, lastMs: t.nowMs, data: data ?? null });
  t.publish("unmanaged", { service: null, instance: null }, { name, outcome: "seen", ageMs: 0 });
  if (book.sweepAtMs === null) arm(t, t.nowMs + config.expireAfterMs);
}

function arm(t: Turn, atMs: number): void {
  t.state.unmanaged.sweepAtMs = atMs;
  t.emit({ type: "SetTimer", key: UNMANAGED_TIMER, delayMs: Math.max(0, atMs - t.nowMs) });
}

/** The expiry timer: names older than expire_after go; the timer is set again for the oldest left. */
export function unmanagedSweep(t: Turn): void {
  const book = t.state.unmanaged;
  book.sweepAtMs = null;
  const expireMs = t.state.manifest.unmanaged?.expireAfterMs ?? 0;
  let oldest = Number.POSITIVE_INFINITY;
  for (const [name, beat] of book.byName) {
    const ageMs = t.nowMs - beat.lastMs;
    if (expireMs === 0 || ageMs >= expireMs) {
      book.byName.delete(name);
      t.publish("unmanaged", { service: null, instance: null }, { name, outcome: "expired", ageMs });
    } else {
      oldest = Math.min(oldest, beat.lastMs);
    }
  }
  if (oldest !== Number.POSITIVE_INFINITY) arm(t, oldest + expireMs);
}
