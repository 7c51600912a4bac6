// `ping:` checks in the stack: each expects pings (POST /ping/NAME, `vigil beat --service NAME`) by a
// time; its timer makes it late, then down (failed, alerted). An `every` check's next time is now +
// every; a `cron` check's is croner's to compute, so the runtime is asked (ArmPing) and answers PingArmed.
import type { PingConfig } from "../../manifest/types.js";
import { newPingState, nextCheckWallMs, pingChecked, pingHealth, pingReceived as received, type PingSignal, type PingState } from "../ping.js";
import type { Subject } from "./domain-events.js";
import type { TimerKey } from "./effects.js";
import type { Turn } from "./turn.js";

export interface PingEntry {
  config: PingConfig;
  /** null for a cron check until the runtime has said when its first ping is due */
  state: PingState | null;
}

/** At most this many ms ahead is a timer set; a later deadline is looked at again then (setTimeout's bound). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function pingTimer(name: string, seq: number): TimerKey {
  return { id: name, incarnation: seq, kind: "ping" };
}

const about = (name: string): Subject => ({ service: name, instance: name });

/** The stack starts, or a new manifest is applied: checks are added, changed (started afresh) or dropped. */
export function syncPings(t: Turn, configs: readonly PingConfig[]): void {
  const { pings } = t.state;
  const wanted = new Map(configs.map((c) => [c.name, c]));
  for (const [name, entry] of pings) {
    const config = wanted.get(name);
    if (config && JSON.stringify(config) === JSON.stringify(entry.config)) continue;
    if (entry.state) t.emit({ type: "CancelTimer", key: pingTimer(name, entry.state.seq) });
    pings.delete(name);
  }
  for (const config of configs) {
    if (pings.has(config.name)) continue;
    const entry: PingEntry = { config, state: null };
    pings.set(config.name, entry);
    arm(t, entry, null, 0);
  }
}

/** The next ping is due at `dueWallMs` (from now + every, or from the runtime for cron). */
function arm(t: Turn, entry: PingEntry, from: PingState | null, seq: number): void {
  const { config } = entry;
  if (config.everyMs !== null) return setDue(t, entry, from, t.ctx.wallMs + config.everyMs, seq);
  t.emit({ type: "ArmPing", name: config.name, config, seq, fromWallMs: t.ctx.wallMs });
}

function setDue(t: Turn, entry: PingEntry, from: PingState | null, dueWallMs: number, seq: number): void {
  const state: PingState = from === null ? { ...newPingState(dueWallMs), seq } : { ...from, dueWallMs, seq };
  entry.state = state;
  schedule(t, entry);
}

function schedule(t: Turn, entry: PingEntry): void {
  const state = entry.state;
  if (!state) return;
  const at = nextCheckWallMs(state, entry.config.graceMs);
  if (at === null) return;
  t.emit({ type: "SetTimer", key: pingTimer(entry.config.name, state.seq), delayMs: Math.min(MAX_TIMER_MS, Math.max(0, at - t.ctx.wallMs)) });
}

/** The runtime computed a cron check's next time (for the deadline numbered seq). */
export function pingArmed(t: Turn, name: string, seq: number, dueWallMs: number): void {
  const entry = t.state.pings.get(name);
  if (!entry) return;
  const current = entry.state;
  // an answer for an older deadline: a later ping has asked again
  if (current !== null && current.seq > seq) return;
  setDue(t, entry, current, dueWallMs, seq);
}

export function pingReceived(t: Turn, name: string, signal: PingSignal): void {
  const entry = t.state.pings.get(name);
  if (!entry) return;
  const before = entry.state ?? newPingState(Number.POSITIVE_INFINITY);
  t.emit({ type: "CancelTimer", key: pingTimer(name, before.seq) });
  const { everyMs } = entry.config;
  // a cron check's next time comes back from the runtime (PingArmed); until then, no deadline
  const after = received(before, signal, t.ctx.wallMs, everyMs === null ? Number.POSITIVE_INFINITY : t.ctx.wallMs + everyMs);
  entry.state = after;
  if (signal.kind !== "start") {
    if (everyMs === null) arm(t, entry, after, after.seq);
    else schedule(t, entry);
  } else {
    schedule(t, entry);
  }
  t.publish("ping", about(name), {
    state: after.status,
    previous: before.status,
    signal: signal.kind,
    exitCode: signal.kind === "exit" ? signal.code : null,
    durationMs: signal.kind === "start" ? null : after.lastDurationMs,
  });
  healthChanged(t, name, before, after);
}

/** The check's timer fired: it may be late now, or down. */
export function pingDue(t: Turn, name: string, seq: number): void {
  const entry = t.state.pings.get(name);
  const before = entry?.state;
  if (!entry || !before || before.seq !== seq) return;
  const after = pingChecked(before, t.ctx.wallMs, entry.config.graceMs);
  entry.state = after;
  if (after !== before) {
    t.publish("ping", about(name), { state: after.status, previous: before.status, signal: after.status === "down" ? "down" : "late", exitCode: null, durationMs: null });
    healthChanged(t, name, before, after);
  }
  // not yet due (a deadline beyond one timer's reach), or late until the grace ends
  schedule(t, entry);
}

function healthChanged(t: Turn, name: string, before: PingState, after: PingState): void {
  const [was, now] = [pingHealth(before.status), pingHealth(after.status)];
  if (was !== now) t.publish("health", about(name), { health: now, previous: was });
}
