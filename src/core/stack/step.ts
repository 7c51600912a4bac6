// The one decision function of the supervisor: what an input means for the stack, and what must be done.
// Deterministic and free of I/O: the next state and the effects follow from (state, input, context) alone,
// time and randomness included. For speed it updates the state it is given and returns it (the loop owns
// the only copy); tests hand it a state and read the one it returns.
import { beat } from "../beat-watch.js";
import { announceReady, answerStarted } from "./announce.js";
import { servicesToStart } from "./autostart.js";
import { settleAwaited } from "./awaited.js";
import { filesChanged, watchDue } from "./watch.js";
import { holdSchedule, runRestart, scheduleArmed, scheduleStateChanged, scheduleTicked, startsWithStack } from "./schedule.js";
import type { Effect as MachineEffect, ServiceEvent } from "../events.js";
import { transition } from "../service-machine.js";
import type { ServiceStatus } from "../service-state.js";
import { arm, childStarted, forgetChild, spawnSpec } from "./children.js";
import { beginShutdown, commandRequested } from "./control.js";
import type { Effect, TimerKey } from "./effects.js";
import { abandonDependants, isWaiting, startReady } from "./gating.js";
import { heartbeatDue, ipcMessage, outputDue, reject, socketMessage } from "./heartbeats.js";
import type { Input } from "./inputs.js";
import { notifyReceived } from "./notify.js";
import { tasksDue } from "./tasks.js";
import { probeFinished, probeDue } from "./probes.js";
import { manifestLoaded, manifestRejected } from "./reload.js";
import { resourcesSampled } from "./resources.js";
import { dropRemoved } from "./scale.js";
import { readyTimedOut, settleRollovers, startFirst } from "./rollover.js";
import { isIdle, stopReady } from "./shutdown.js";
import { configOf, instancesInOrder, nameOf, newMessages, type Instance, type StackState } from "./state.js";
import { Turn, type StepContext } from "./turn.js";
import { pingArmed, pingDue, pingReceived, syncPings } from "./pings.js";
import { actionFinished, adoptedGone, failureTakenOver, troubleEnded } from "./actions.js";
import { unmanagedBeat, unmanagedSweep } from "./unmanaged.js";

export type { StepContext } from "./turn.js";

export interface StepResult {
  readonly state: StackState;
  readonly effects: readonly Effect[];
}

export function step(state: StackState, input: Input, ctx: StepContext): StepResult {
  const t = new Turn(state, ctx);
  take(t, input);
  settle(t);
  return { state, effects: t.effects };
}

function take(t: Turn, input: Input): void {
  const { state } = t;
  switch (input.type) {
    case "Started": {
      const instances = [...instancesInOrder(state)];
      t.publish("up", null, { services: state.services.size, instances: instances.length, file: state.manifest.file, pid: input.pid });
      state.began = true;
      syncPings(t, state.manifest.pings ?? []);
      const starting = servicesToStart(state, input.only);
      for (const name of state.order) {
        const entry = state.services.get(name);
        if (entry?.config.schedule) holdSchedule(entry, !starting.has(name));
        if (!starting.has(name) || (entry && !startsWithStack(entry.config))) continue;
        for (const id of state.services.get(name)?.instances ?? []) {
          const instance = id === undefined ? undefined : state.instances.get(id);
          if (instance) dispatch(t, instance, { type: "Queued" });
        }
      }
      t.gatingChanged = true;
      return;
    }
    case "ShutdownRequested":
      if (!input.kill) return beginShutdown(t);
      if (!state.shuttingDown) t.emit({ type: "Announce", what: "stopping" });
      state.shuttingDown = true;
      t.publish("shutdown", null, { kill: true });
      for (const instance of state.instances.values()) dispatch(t, instance, { type: "KillRequested" });
      return;
    case "ChildSpawned": {
      const instance = state.instances.get(input.id);
      if (!instance || instance.status.incarnation !== input.incarnation) return;
      dispatch(t, instance, { type: "Spawned", incarnation: input.incarnation, pid: input.pid });
      if (instance.status.pid === input.pid) childStarted(t, instance, input.token);
      return;
    }
    case "SpawnFailed":
    case "ChildExited": {
      const instance = state.instances.get(input.id);
      if (!instance) return;
      if (input.type === "SpawnFailed") return dispatch(t, instance, { type: "SpawnFailed", incarnation: input.incarnation, error: input.error });
      const before = instance.status;
      dispatch(t, instance, { type: "ChildExited", incarnation: input.incarnation, code: input.code, signal: input.signal });
      return adoptedGone(t, instance, before);
    }
    case "JobNoticed": {
      const instance = state.instances.get(input.id) ?? null;
      const note = input.note;
      if (note.kind === "leftovers") t.publish("job-leftovers", instance, { pids: note.pids, text: note.text, daemon: note.daemon });
      else if (note.kind === "escaped") t.publish("job-escaped", instance, { pid: note.pid, command: note.command });
      else t.publish("job-stuck", instance, { text: note.text });
      return;
    }
    case "OutputSeen": {
      const instance = state.instances.get(input.id);
      if (!instance?.output || instance.status.incarnation !== input.incarnation) return;
      if (instance.output.reported === "failed") troubleEnded(t, instance.id);
      const outcome = beat(instance.output, t.nowMs, true);
      if (outcome.arm !== null) arm(t, instance, "output", outcome.arm);
      return;
    }
    case "MessageReceived":
      return socketMessage(t, input.message);
    case "IpcMessageReceived":
      return ipcMessage(t, input.id, input.incarnation, input.message);
    case "NotifyReceived":
      return notifyReceived(t, input.id, input.incarnation, input.datagram);
    case "MessageRejected":
      return reject(t, input.kind, input.service);
    case "TimerFired":
      return timerFired(t, input.key);
    case "FilesChanged":
      return filesChanged(t, input.service, input.path);
    case "ScheduleArmed":
      return scheduleArmed(t, input.service, input.nextRunAtWallMs);
    case "ScheduleTicked":
      return scheduleTicked(t, input.service, input.nextRunAtWallMs);
    case "WatchdogDue":
      if (!state.stopped) t.emit({ type: "Announce", what: "watchdog" });
      return;
    case "ProbeFinished":
      return probeFinished(t, input.id, input.incarnation, input.probe, input.ok, input.detail);
    case "ResourcesSampled":
      return resourcesSampled(t, input.samples, input.host);
    case "ControlRequested":
      return commandRequested(t, input.replyTo, input.command);
    case "ManifestLoaded":
      return manifestLoaded(t, input.manifest, input.replyTo);
    case "ManifestRejected":
      return manifestRejected(t, input.error, input.replyTo, input.missing === true);
    case "PingReceived":
      return pingReceived(t, input.name, input.signal);
    case "PingArmed":
      return pingArmed(t, input.name, input.seq, input.dueWallMs);
    case "ActionFinished":
      return actionFinished(t, input.seq, input.result);
    case "UnmanagedBeat":
      return unmanagedBeat(t, input.name, input.data);
    case "AdoptNoticed": {
      const instance = state.instances.get(input.id) ?? null;
      if (instance) t.publish("adopt", instance, { outcome: input.outcome, pid: input.pid, detail: input.detail });
      return;
    }
    default: {
      const never: never = input;
      throw new Error(`bug: unknown input ${JSON.stringify(never)}`);
    }
  }
}

/** A timer of an earlier child (incarnation) of the instance means nothing now. */
function timerFired(t: Turn, key: TimerKey): void {
  if (key.kind === "watch") return watchDue(t, key.id);
  if (key.kind === "ping") return pingDue(t, key.id, key.incarnation);
  if (key.kind === "unmanaged") return unmanagedSweep(t);
  const instance = t.state.instances.get(key.id);
  if (!instance || instance.status.incarnation !== key.incarnation) return;
  switch (key.kind) {
    case "backoff":
      return dispatch(t, instance, { type: "BackoffElapsed" });
    case "stop":
      return dispatch(t, instance, { type: "StopTimedOut" });
    case "heartbeat":
      return heartbeatDue(t, instance);
    case "output":
      return outputDue(t, instance);
    case "probe:liveness":
      return probeDue(t, instance, "liveness");
    case "probe:readiness":
      return probeDue(t, instance, "readiness");
    case "ready":
      return readyTimedOut(t, instance);
    case "task":
      return tasksDue(t, instance);
    default: {
      const never: never = key.kind;
      throw new Error(`bug: unknown timer ${String(never)}`);
    }
  }
}

/** Feeds one event to the instance's state machine (service-machine.ts) and carries out what it decides. */
export function dispatch(t: Turn, instance: Instance, event: ServiceEvent, rollable = true): void {
  if (event.type === "FailureDetected" && failureTakenOver(t, instance, event)) return;
  if (rollable && (event.type === "RestartRequested" || event.type === "FailureDetected") && startFirst(t, instance, event)) return;
  const config = configOf(t.state, instance);
  const before = instance.status;
  const { status, effects } = transition(before, event, { nowMs: t.nowMs, random: t.ctx.random(), restart: runRestart(config), stop: config.stop });
  instance.status = status;
  for (const effect of effects) perform(t, instance, effect);
  if (status !== before) changed(t, instance, before);
}

/** The machine's effects as the stack's: with the instance and its child's incarnation. */
function perform(t: Turn, instance: Instance, effect: MachineEffect): void {
  const { id } = instance;
  const incarnation = instance.status.incarnation;
  switch (effect.type) {
    case "Spawn":
      forgetChild(t, instance, effect.incarnation - 1);
      instance.messages = newMessages(configOf(t.state, instance).heartbeat?.history, instance.messages, t.nowMs);
      return t.emit({ type: "Spawn", id, incarnation: effect.incarnation, spec: spawnSpec(t.state, instance) });
    case "Signal":
      return t.emit({ type: "Signal", id, incarnation, signal: effect.signal });
    case "KillTree":
      return t.emit({ type: "KillJob", id, incarnation });
    case "StartTimer":
      return t.emit({ type: "SetTimer", key: { id, incarnation, kind: effect.timer }, delayMs: effect.delayMs });
    case "CancelTimer":
      return t.emit({ type: "CancelTimer", key: { id, incarnation, kind: effect.timer } });
    case "Note":
      return t.publish(effect.note.kind, instance, effect.note.fields as never);
    default: {
      const never: never = effect;
      throw new Error(`bug: unknown machine effect ${JSON.stringify(never)}`);
    }
  }
}

/** What a change of the machine's value means beyond the machine: gating, counts, the child's end. */
function changed(t: Turn, instance: Instance, before: ServiceStatus): void {
  const after = instance.status;
  if (after.state !== before.state) {
    t.gatingChanged = true;
    t.publish("state", instance, { state: after.state, previous: before.state, pid: after.pid });
  }
  if (isWaiting(after)) t.state.waiting.add(instance.id);
  else t.state.waiting.delete(instance.id);
  if (after.restarts > before.restarts) {
    const reason = after.lastExit?.reason ?? "manual";
    instance.restartsByReason[reason] = (instance.restartsByReason[reason] ?? 0) + 1;
  }
  if (before.pid !== null && after.pid === null) forgetChild(t, instance, before.incarnation);
  if (after.state !== before.state && (after.state === "fatal" || after.state === "exited")) {
    abandonDependants(t, instance.service, `${nameOf(t.state, instance)} is ${after.state}`);
  }
  if (after.state !== before.state) scheduleStateChanged(t, instance, before);
  if (instance.removing) t.dropLater(instance);
}

/** What follows from any input: waiting instances start, a shutdown moves on, removed instances leave. */
function settle(t: Turn): void {
  const { state } = t;
  if (state.rollovers.size > 0) settleRollovers(t);
  if (!state.shuttingDown && t.gatingChanged && state.waiting.size > 0) startReady(t);
  if (t.gatingChanged || state.shuttingDown) {
    announceReady(t);
    answerStarted(t);
  }
  if (state.awaited.length > 0) settleAwaited(t);
  if (state.shuttingDown && !state.stopped && stopReady(t)) {
    state.stopped = true;
    t.publish("down", null, {});
    for (const to of state.downReplies.splice(0)) t.emit({ type: "Reply", to, answer: { ok: true } });
    t.emit({ type: "Stopped" });
  }
  if (t.mayDrop) dropRemoved(t, (id) => {
    const instance = state.instances.get(id);
    return !instance || isIdle(instance);
  });
}
