// A new generation of the manifest, applied as reload-plan.ts plans it: removed services stop and leave,
// changed spawn definitions restart with reason `config`, supervision changes apply in place, replicas
// scale, added services start after their dependencies. A bad edit changes nothing: the running
// generation stays and config_error says why.
import { reconfigure } from "../beat-watch.js";
import { describePlan, planIsEmpty, planReload } from "../reload-plan.js";
import { startOrder } from "../start-order.js";
import type { Manifest, ServiceConfig } from "../../manifest/types.js";
import type { CommandAnswer } from "./commands.js";
import type { ReplyTo } from "./inputs.js";
import { arm, watchChild } from "./children.js";
import { dispatch } from "./step.js";
import { reconcile } from "./scale.js";
import { resumeWatch } from "./watch.js";
import { isIdleState, startsWithStack } from "./schedule.js";
import { addService, instancesOf, type Instance, type ServiceEntry, type StackState } from "./state.js";
import type { Turn } from "./turn.js";
import { heartbeatWanted, retask } from "./tasks.js";
import { syncPings } from "./pings.js";

export function manifestLoaded(t: Turn, next: Manifest, replyTo: ReplyTo | null): void {
  const { state } = t;
  if (state.shuttingDown) return answer(t, replyTo, { ok: false, error: "the supervisor is shutting down", code: "shutting-down" });
  const plan = planReload(state.manifest, next);
  if (plan.stateDirChanged) {
    return manifestRejected(t, `${state.manifest.file}: state_dir cannot change while vigil runs; stop it and start it again`, replyTo);
  }
  state.lastRejected = null;
  state.configError = null;
  for (const entry of state.services.values()) resumeWatch(t, entry, "reload");
  if (state.began) syncPings(t, next.pings ?? []);
  if (planIsEmpty(plan)) {
    state.manifest = next;
    return answer(t, replyTo, { ok: true, data: { generation: state.generation, changes: [] } });
  }
  const previous = state.manifest;
  state.manifest = next;
  const configs = new Map(next.services.map((c) => [c.name, c]));
  for (const name of plan.removed) removeService(t, name);
  for (const { name } of plan.updated) updateInPlace(t, name, configs.get(name));
  for (const { name } of plan.restarted) restartWith(t, name, configs.get(name));
  for (const { name } of plan.scaled) {
    const entry = state.services.get(name);
    const config = configs.get(name);
    if (!entry || !config) continue;
    entry.config = config;
    entry.replicas = config.replicas;
    reconcile(t, entry);
  }
  for (const name of plan.added) {
    const config = configs.get(name);
    if (!config) continue;
    const starts = !config.disabled && startsWithStack(config);
    const leaving = state.services.get(name);
    if (leaving) {
      // removed by an earlier edit and added back before its children were gone (a block deleted,
      // saved, undone, saved): they stay, and start again under the definition added back
      leaving.config = config;
      leaving.replicas = config.replicas;
      reconcile(t, leaving, starts);
      continue;
    }
    const entry = addService(state, config);
    if (!starts) continue;
    for (const instance of instancesOf(state, entry)) dispatch(t, instance, { type: "Queued" });
  }
  for (const [name, config] of configs) {
    const entry = state.services.get(name);
    if (entry) entry.config = config;
  }
  reorder(state, next);
  state.generation++;
  t.gatingChanged = true;
  const changes = describePlan(plan);
  t.publish("config-applied", null, { generation: state.generation, changes });
  t.emit({ type: "Reconfigure", manifest: next, previous });
  answer(t, replyTo, { ok: true, data: { generation: state.generation, changes } });
}

/** A bad edit: the running generation stays; the error is published once per distinct error. */
export function manifestRejected(t: Turn, error: string, replyTo: ReplyTo | null, missing = false): void {
  const { state } = t;
  state.configError = error;
  if (state.lastRejected !== error) {
    state.lastRejected = error;
    t.publish("config-rejected", null, missing ? { error, missing } : { error });
  }
  answer(t, replyTo, { ok: false, error, code: "invalid-manifest" });
}

function answer(t: Turn, replyTo: ReplyTo | null, answer: CommandAnswer): void {
  if (replyTo !== null) t.emit({ type: "Reply", to: replyTo, answer });
}

/** Stopped by its stop rules, then dropped once its children are gone. */
function removeService(t: Turn, name: string): void {
  const entry = t.state.services.get(name);
  if (!entry) return;
  for (const instance of instancesOf(t.state, entry)) {
    instance.removing = true;
    dispatch(t, instance, { type: "StopRequested", reason: "config" });
    t.dropLater(instance);
  }
}

/** Only supervision changed: the new rules apply to the running children at once; they keep their pid. */
function updateInPlace(t: Turn, name: string, config: ServiceConfig | undefined): void {
  const entry = t.state.services.get(name);
  if (!entry || !config) return;
  entry.config = config;
  for (const instance of instancesOf(t.state, entry)) if (instance.status.pid !== null) rewatch(t, instance, config);
}

/** The spawn definition changed: each child is stopped by its current stop rules and spawned anew. */
function restartWith(t: Turn, name: string, config: ServiceConfig | undefined): void {
  const entry: ServiceEntry | undefined = t.state.services.get(name);
  if (!entry || !config) return;
  entry.config = config;
  for (const instance of instancesOf(t.state, entry)) {
    const s = instance.status;
    // held down by a person, or still waiting for dependencies: the new definition is used when it starts
    if (s.state === "stopped" || (s.state === "starting" && !s.spawnInFlight)) continue;
    // a scheduled job between runs: its next run uses the new definition
    if (config.schedule !== null && isIdleState(s.state)) continue;
    dispatch(t, instance, { type: "RestartRequested", reason: "config" });
  }
}

/** New heartbeat, output or probe settings for a running child: watches keep their beats, probes start anew. */
function rewatch(t: Turn, instance: Instance, config: ServiceConfig): void {
  const { id } = instance;
  const incarnation = instance.status.incarnation;
  const hb = config.heartbeat;
  if ((!hb || !heartbeatWanted(hb, instance)) && instance.heartbeat) {
    t.emit({ type: "CancelTimer", key: { id, incarnation, kind: "heartbeat" } });
    instance.heartbeat = null;
  } else if (hb && instance.heartbeat && (instance.heartbeat.intervalMs !== hb.intervalMs || instance.heartbeat.misses !== hb.misses)) {
    const before = instance.heartbeat.reported;
    const outcome = reconfigure(instance.heartbeat, { intervalMs: hb.intervalMs, misses: hb.misses, startupGraceMs: hb.startupGraceMs }, t.nowMs);
    instance.heartbeat = outcome.watch;
    arm(t, instance, "heartbeat", outcome.arm);
    if (outcome.previous !== null) t.publish("health", instance, { health: outcome.watch.reported, previous: before });
  }
  const staleMs = config.logs.staleAfterMs;
  if (instance.output && instance.output.intervalMs !== staleMs) {
    t.emit({ type: "CancelTimer", key: { id, incarnation, kind: "output" } });
    instance.output = null;
  }
  for (const kind of ["liveness", "readiness"] as const) {
    if (!instance.probes[kind]) continue;
    t.emit({ type: "CancelTimer", key: { id, incarnation, kind: `probe:${kind}` } });
    instance.probes[kind] = null;
  }
  watchChild(t, instance);
  retask(t, instance);
}

/** The services in the new manifest's order; removed ones stay at the end until their children are gone. */
function reorder(state: StackState, next: Manifest): void {
  const ordered = new Map<string, ServiceEntry>();
  for (const config of next.services) {
    const entry = state.services.get(config.name);
    if (entry) ordered.set(config.name, entry);
  }
  for (const [name, entry] of state.services) if (!ordered.has(name)) ordered.set(name, entry);
  state.services.clear();
  for (const [name, entry] of ordered) state.services.set(name, entry);
  state.order = startOrder(next.services);
}
