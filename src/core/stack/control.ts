// Commands of people and programs: start, stop, restart and status of services or single instances,
// scale, reload and down. Each is answered through a Reply effect.
import { MAX_REPLICAS } from "./ids.js";
import { didYouMean } from "../../manifest/suggest.js";
import type { CommandAnswer, StackCommand } from "./commands.js";
import type { InstanceId } from "./ids.js";
import type { ReplyTo } from "./inputs.js";
import { answerStarted } from "./announce.js";
import { dispatch } from "./step.js";
import { reconcile } from "./scale.js";
import { configOf, instancesOf, nameOf, type Instance, type StackState } from "./state.js";
import { slotOf } from "./awaited.js";
import { resumeWatch } from "./watch.js";
import { holdSchedule } from "./schedule.js";
import { withDependencies } from "./autostart.js";
import { unmetDependencies } from "./gating.js";
import type { Turn } from "./turn.js";
import { beatsDoc, instanceTasksDoc } from "./queries.js";

export function commandRequested(t: Turn, replyTo: ReplyTo, command: StackCommand): void {
  const { state } = t;
  const reply = (answer: CommandAnswer): void => t.emit({ type: "Reply", to: replyTo, answer });
  const shuttingDown = (): void => reply({ ok: false, error: "the supervisor is shutting down", code: "shutting-down" });
  switch (command.cmd) {
    case "status": {
      const found = resolve(state, command.names);
      if ("unknown" in found) return reply(unknownNames(state, found.unknown));
      return reply({ ok: true, status: { ids: found.ids, history: command.history } });
    }
    case "start":
    case "stop":
    case "restart": {
      if (state.shuttingDown) return shuttingDown();
      const found = resolve(state, command.names);
      if ("unknown" in found) return reply(unknownNames(state, found.unknown));
      const instances = found.ids
        .map((id) => state.instances.get(id))
        .filter((i): i is Instance => i !== undefined && (command.names.length > 0 || command.cmd === "stop" || !heldByManifest(state, i)));
      if (command.cmd === "restart") {
        for (const service of new Set(instances.map((i) => i.service))) {
          const entry = state.services.get(service);
          if (entry) resumeWatch(t, entry, "restart");
        }
      }
      for (const service of new Set(instances.map((i) => i.service))) {
        const entry = state.services.get(service);
        if (entry?.config.schedule) holdSchedule(entry, command.cmd === "stop");
      }
      const slotsBefore = instances.filter((i) => i.role === "current").map(slotOf);
      if (command.cmd === "start") startWithDependencies(t, instances);
      for (const instance of instances) {
        if (command.cmd === "stop") dispatch(t, instance, { type: "StopRequested", reason: "manual" });
        else if (command.cmd === "restart") dispatch(t, instance, { type: "RestartRequested", reason: "manual" });
      }
      if (command.cmd === "start" || command.wait !== true) return reply({ ok: true });
      // answered by settleAwaited once done, at the end of this very step if nothing needs doing
      state.awaited.push({ replyTo, cmd: command.cmd, slots: slotsBefore });
      return;
    }
    case "scale": {
      if (state.shuttingDown) return shuttingDown();
      const entry = state.services.get(command.service);
      if (!entry || !state.manifest.services.some((c) => c.name === command.service)) {
        return reply({ ok: false, error: `unknown service ${command.service} (known: ${serviceNames(state).join(", ")})`, code: "unknown-service" });
      }
      if (!Number.isInteger(command.replicas) || command.replicas < 0 || command.replicas > MAX_REPLICAS) {
        return reply({ ok: false, error: `replicas must be a whole number from 0 to ${MAX_REPLICAS}, got ${command.replicas}`, code: "bad-request" });
      }
      const from = entry.replicas;
      entry.replicas = command.replicas;
      reconcile(t, entry);
      if (from !== command.replicas) t.publish("scaled", { service: command.service, instance: null }, { from, to: command.replicas });
      return reply({ ok: true, data: { service: command.service, from, to: command.replicas } });
    }
    case "reload":
      if (state.shuttingDown) return shuttingDown();
      return t.emit({ type: "LoadManifest", replyTo });
    case "wait-started":
      if (state.shuttingDown) return shuttingDown();
      state.startedReplies.push(replyTo);
      return answerStarted(t);
    case "beats":
    case "tasks": {
      const found = resolve(state, command.names);
      if ("unknown" in found) return reply(unknownNames(state, found.unknown));
      const instances = found.ids.flatMap((id) => state.instances.get(id) ?? []);
      const services =
        command.cmd === "beats"
          ? instances.map((i) => beatsDoc(state, i, command.sinceWallMs, command.untilWallMs))
          : instances.map((i) => instanceTasksDoc(state, i, t.nowMs, t.ctx.wallMs));
      return reply({ ok: true, data: { services } });
    }
    case "down":
      if (state.stopped) return reply({ ok: true });
      state.downReplies.push(replyTo);
      if (!state.shuttingDown) beginShutdown(t);
      return;
    default: {
      const never: never = command;
      throw new Error(`bug: unknown command ${JSON.stringify(never)}`);
    }
  }
}

/**
 * `vigil start`: a held-down instance starts at once when what it depends on is ready; otherwise it
 * waits for it, and dependencies that were never started (`vigil up NAME`, `disabled`) start first.
 */
function startWithDependencies(t: Turn, instances: readonly Instance[]): void {
  const { state } = t;
  const configs = new Map([...state.services].map(([name, entry]) => [name, entry.config]));
  const named = new Set(instances.map((i) => i.service));
  for (const name of withDependencies(configs, [...named])) {
    if (named.has(name)) continue;
    const entry = state.services.get(name);
    for (const dep of entry ? instancesOf(state, entry) : []) {
      if (dep.status.state === "stopped" && !dep.removing) dispatch(t, dep, { type: "Queued" });
    }
  }
  for (const instance of instances) {
    const s = instance.status;
    const idle = s.state === "stopped" || s.state === "exited" || s.state === "fatal";
    if (idle && unmetDependencies(state, configOf(state, instance), t.nowMs).length > 0) dispatch(t, instance, { type: "Queued" });
    else dispatch(t, instance, { type: "StartRequested" });
  }
  t.gatingChanged = true;
}

/** A disabled service not started yet: a start or restart of every service leaves it alone, naming it starts it. */
function heldByManifest(state: StackState, instance: Instance): boolean {
  return configOf(state, instance).disabled && instance.status.state === "stopped";
}

export function beginShutdown(t: Turn): void {
  if (t.state.shuttingDown) return;
  t.state.shuttingDown = true;
  t.emit({ type: "Announce", what: "stopping" });
  t.publish("shutdown", null, { kill: false });
}

/** Services and instances by the names people use: a service means all its instances; none means all. */
export function resolve(state: StackState, names: readonly string[]): { ids: InstanceId[] } | { unknown: string[] } {
  const byName = new Map<string, InstanceId[]>();
  for (const entry of state.services.values()) {
    const instances = instancesOf(state, entry);
    byName.set(entry.config.name, instances.map((i) => i.id));
    for (const instance of instances) byName.set(nameOf(state, instance), [instance.id]);
  }
  if (names.length === 0) return { ids: [...byName.entries()].filter(([name]) => state.services.has(name)).flatMap(([, ids]) => ids) };
  const unknown = names.filter((name) => !byName.has(name));
  if (unknown.length > 0) return { unknown };
  const wanted = new Set(names.flatMap((name) => byName.get(name) ?? []));
  // in manifest order, whatever order they were asked in
  return { ids: [...state.instances.keys()].filter((id) => wanted.has(id)).sort(byManifestOrder(state)) };
}

function byManifestOrder(state: StackState): (a: InstanceId, b: InstanceId) => number {
  const rank = new Map<InstanceId, number>();
  let n = 0;
  for (const entry of state.services.values()) for (const instance of instancesOf(state, entry)) rank.set(instance.id, n++);
  return (a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0);
}

function serviceNames(state: StackState): string[] {
  return [...state.services.keys()];
}

/** The names a command takes: every service, and every instance of a replicated one. */
export function knownNames(state: StackState): string[] {
  const known: string[] = [];
  for (const entry of state.services.values()) {
    known.push(entry.config.name);
    const instances = instancesOf(state, entry);
    if (instances.length > 1) for (const instance of instances) known.push(nameOf(state, instance));
  }
  return known;
}

export function unknownNamesText(state: StackState, unknown: readonly string[]): string {
  const known = knownNames(state);
  const hint = unknown.length === 1 ? didYouMean(unknown[0], known) : "";
  return `unknown service${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}${hint} (known: ${known.join(", ")})`;
}

export function unknownNames(state: StackState, unknown: readonly string[]): CommandAnswer {
  return { ok: false, error: unknownNamesText(state, unknown), code: "unknown-service" };
}
