// Heartbeats (SPEC §3): what children say, and what their silence means. Who is speaking is checked (the
// service named and the token of its current child, or the IPC channel the line came on), then the beat,
// ready, status or stopping is taken; when a watch's deadline passes without a beat (heartbeats, or output
// for logs.stale_after), the instance's machine is told of the failure.
import { beat, timerFired } from "../beat-watch.js";
import { formatMs } from "../format.js";
import { MAX_DATA_BYTES, MAX_DATA_DEPTH } from "../data-bounds.js";
import type { ChildMessage, ParsedMessage, RejectKind } from "../heartbeat-message.js";
import { MAX_NOTIFY_BYTES } from "../notify-message.js";
import { healthOf } from "./health.js";
import { arm } from "./children.js";
import { abandonDependants } from "./gating.js";
import { dispatch } from "./step.js";
import type { InstanceId } from "./ids.js";
import type { Health } from "../types.js";
import { configOf, nameOf, type Instance, type StackState } from "./state.js";
import type { Turn } from "./turn.js";
import { taskMessage } from "./tasks.js";

const REJECT_TEXT: Record<RejectKind, string> = {
  "bad-json": "a line that is not JSON",
  "bad-message": "a message that is not of the protocol (type beat, ready, status, stopping or task)",
  "bad-data": `a message whose data is nested deeper than ${MAX_DATA_DEPTH} or larger than ${MAX_DATA_BYTES / 1024} KiB as JSON; message dropped`,
  "unknown-service": "a message naming no known service",
  "bad-token": "a message with a wrong or outdated token",
  "line-too-long": "a line over 64 KiB (refused whole; a socket connection is closed)",
  evicted: "the socket was full: the connection quiet longest was closed to make room for a new one",
  "bad-datagram": "a notify datagram that is not UTF-8 text of KEY=VALUE lines, or holds a known key with a value the protocol does not have",
  "datagram-too-long": `a notify datagram over ${MAX_NOTIFY_BYTES / 1024} KiB; dropped`,
};

export function describeReject(kind: string): string {
  return REJECT_TEXT[kind as RejectKind] ?? kind;
}

/** Who sent a line on the heartbeat socket, or why it is refused; the state is only read. */
export type Identified =
  | { readonly ok: true; readonly instance: Instance; readonly message: ChildMessage }
  | { readonly ok: false; readonly kind: RejectKind; readonly service: string | undefined };

/**
 * A line on the heartbeat socket must name a service and carry the token of one of its children. A
 * message whose data is over its bounds is blamed on the service only once its speaker is proved. The
 * socket learns of a refusal from the count of refused messages.
 */
export function identify(state: StackState, parsed: ParsedMessage): Identified {
  if (!parsed.ok && parsed.fault === "bad-message") return { ok: false, kind: "bad-message", service: undefined };
  const { service, token } = parsed.ok ? parsed.message : parsed;
  if (service === undefined || !state.services.has(service)) return { ok: false, kind: "unknown-service", service: undefined };
  const id = token === undefined ? undefined : state.tokens.get(token);
  const instance = id === undefined ? undefined : state.instances.get(id);
  if (!instance || instance.service !== service) return { ok: false, kind: "bad-token", service };
  if (!parsed.ok) return { ok: false, kind: "bad-data", service };
  return { ok: true, instance, message: parsed.message };
}

export function socketMessage(t: Turn, parsed: ParsedMessage): void {
  const who = identify(t.state, parsed);
  if (!who.ok) return reject(t, who.kind, who.service);
  take(t, who.instance, who.message);
}

/** A line on a child's own IPC channel: the channel says who it is; a service or token, if given, must fit. */
export function ipcMessage(t: Turn, id: InstanceId, incarnation: number, parsed: ParsedMessage): void {
  const instance = t.state.instances.get(id);
  if (!instance) return;
  if (!parsed.ok && parsed.fault === "bad-message") return reject(t, "bad-message", instance.service);
  const { service, token } = parsed.ok ? parsed.message : parsed;
  if ((service !== undefined && service !== instance.service) || (token !== undefined && token !== instance.token)) {
    return reject(t, "bad-token", instance.service);
  }
  if (!parsed.ok) return reject(t, "bad-data", instance.service);
  // the last words of a child that has just exited ("stopping") arrive after its exit: dropped quietly
  if (incarnation !== instance.status.incarnation || instance.token === null) return;
  take(t, instance, parsed.message);
}

/** Refused input: counted (for the service it named, when it named one) and logged at a bounded rate. */
export function reject(t: Turn, kind: RejectKind, service: string | undefined): void {
  const { state } = t;
  state.rejectedTotal++;
  const entry = service === undefined ? undefined : state.services.get(service);
  if (entry) entry.rejected++;
  const folded = state.rejectLog.admit(`${kind}/${service ?? ""}`, t.nowMs);
  if (folded === null) return;
  // about the service the message named (not one of its instances), or about no one
  t.publish("message-rejected", entry ? { service: entry.config.name, instance: null } : null, { kind, detail: describeReject(kind), folded });
}

export function take(t: Turn, instance: Instance, message: ChildMessage): void {
  const { messages } = instance;
  switch (message.type) {
    case "beat":
    case "ready": {
      const before = healthOf(t.state, instance, t.nowMs);
      messages.beats++;
      messages.lastBeatWallMs = t.ctx.wallMs;
      if (message.data !== undefined) messages.lastBeatData = message.data;
      messages.ring.push(t.nowMs, t.ctx.wallMs, message.data);
      // a child on its way out keeps the health it had: one that beats again while it is killed for its
      // silence has not recovered (a `recovered` alert would say so), and one asked to stop is leaving
      if (instance.status.state === "stopping") return;
      if (message.type === "ready") messages.ready = true;
      if (instance.heartbeat) {
        const outcome = beat(instance.heartbeat, t.nowMs, true);
        if (outcome.arm !== null) arm(t, instance, "heartbeat", outcome.arm);
      }
      // a beat or a ready never makes an instance's health worse: one that was healthy still is, and
      // the hot path (a beat on time) needs no second look
      const after = before === "healthy" ? before : healthOf(t.state, instance, t.nowMs);
      if (after !== before) {
        t.publish("health", instance, { health: after, previous: before });
        t.gatingChanged = true;
      }
      return;
    }
    case "status":
      messages.statusText = message.text ?? null;
      return;
    case "task":
      if (message.task) taskMessage(t, instance, message.task);
      return;
    case "stopping":
      // the child says it is going away on purpose: its silence from now on is not a hang
      if (instance.heartbeat) t.emit({ type: "CancelTimer", key: { id: instance.id, incarnation: instance.status.incarnation, kind: "heartbeat" } });
      instance.heartbeat = null;
      return;
  }
}

export function heartbeatDue(t: Turn, instance: Instance): void {
  const watch = instance.heartbeat;
  if (!watch) return;
  let previous = watch.reported;
  const outcome = timerFired(watch, t.nowMs);
  if (outcome.arm !== null) arm(t, instance, "heartbeat", outcome.arm);
  const failed = outcome.steps.at(-1) === "failed";
  for (const health of failed ? outcome.steps.slice(0, -1) : outcome.steps) {
    t.publish("health", instance, { health, previous });
    previous = health;
    t.gatingChanged = true;
  }
  if (!failed) return;
  const hb = configOf(t.state, instance).heartbeat;
  const detail = !hb
    ? "no heartbeat"
    : Number.isNaN(watch.lastAtMs)
      ? `no heartbeat since the start (startup_grace ${hb.startupGraceMs} ms, interval ${hb.intervalMs} ms)`
      : `no heartbeat for ${Math.round(outcome.ageMs)} ms (interval ${hb.intervalMs} ms, misses ${hb.misses})`;
  heartbeatFailed(t, instance, previous, detail);
}

/** The heartbeat has failed (silence, or the child's own WATCHDOG=trigger): restart with reason heartbeat. */
export function heartbeatFailed(t: Turn, instance: Instance, previous: Health, detail: string): void {
  if (instance.heartbeat) instance.heartbeat.reported = "failed";
  // the failure (with its reason) first, then the level it reached: alerts tell one incident by the first
  dispatch(t, instance, { type: "FailureDetected", reason: "heartbeat", detail });
  t.publish("health", instance, { health: "failed", previous });
  t.gatingChanged = true;
  abandonDependants(t, instance.service, `${nameOf(t.state, instance)} did not become healthy (${detail})`);
}

export function outputDue(t: Turn, instance: Instance): void {
  const watch = instance.output;
  if (!watch) return;
  const outcome = timerFired(watch, t.nowMs);
  if (outcome.arm !== null) arm(t, instance, "output", outcome.arm);
  if (outcome.steps.at(-1) !== "failed") return;
  dispatch(t, instance, { type: "FailureDetected", reason: "log-stale", detail: `no output for ${formatMs(watch.intervalMs)}` });
}
