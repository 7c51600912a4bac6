// What a new or ended child of an instance means for its tokens, watches and probes, and what the process
// adapter needs to spawn the next one.
import { NO_OVER_RUN } from "../limits.js";
import { newWatch } from "../beat-watch.js";
import type { SpawnSpec } from "./effects.js";
import { configOf, nameOf, newMessages, newProbeSlot, type Instance, type StackState } from "./state.js";
import type { Turn } from "./turn.js";
import { forgetTasks, heartbeatWanted } from "./tasks.js";

/** The child of `incarnation` is gone (or about to be replaced): its token, watches, probes and sample go with it. */
export function forgetChild(t: Turn, instance: Instance, incarnation: number): void {
  if (instance.token !== null) t.state.tokens.delete(instance.token);
  instance.token = null;
  instance.messages.ready = false;
  if (instance.heartbeat) t.emit({ type: "CancelTimer", key: { id: instance.id, incarnation, kind: "heartbeat" } });
  if (instance.output) t.emit({ type: "CancelTimer", key: { id: instance.id, incarnation, kind: "output" } });
  for (const kind of ["liveness", "readiness"] as const) {
    if (instance.probes[kind]) t.emit({ type: "CancelTimer", key: { id: instance.id, incarnation, kind: `probe:${kind}` } });
  }
  forgetTasks(t, instance, incarnation);
  instance.heartbeat = null;
  instance.output = null;
  instance.probes = { liveness: null, readiness: null };
  instance.limits = NO_OVER_RUN;
  instance.sample = null;
}

/** A child of the instance runs: what the manifest asks to watch of it begins now. */
export function childStarted(t: Turn, instance: Instance, token: string): void {
  t.state.tokens.set(token, instance.id);
  instance.token = token;
  watchChild(t, instance);
}

/** (Re)starts the watches and probes of the running child by the service's current settings. */
export function watchChild(t: Turn, instance: Instance): void {
  const config = configOf(t.state, instance);
  const { id } = instance;
  const incarnation = instance.status.incarnation;
  const hb = config.heartbeat;
  if (hb && !instance.heartbeat && heartbeatWanted(hb, instance)) {
    instance.heartbeat = newWatch({ intervalMs: hb.intervalMs, misses: hb.misses, startupGraceMs: hb.startupGraceMs }, t.nowMs);
    arm(t, instance, "heartbeat", instance.heartbeat.startupDeadlineMs);
  }
  const staleMs = config.logs.staleAfterMs;
  if (staleMs !== null && !instance.output) {
    instance.output = newWatch({ intervalMs: staleMs, misses: 1, startupGraceMs: staleMs }, t.nowMs);
    arm(t, instance, "output", instance.output.startupDeadlineMs);
  }
  for (const kind of ["liveness", "readiness"] as const) {
    const probe = config.probes[kind];
    if (probe && !instance.probes[kind]) {
      instance.probes[kind] = newProbeSlot();
      t.emit({ type: "SetTimer", key: { id, incarnation, kind: `probe:${kind}` }, delayMs: probe.initialDelayMs });
    }
  }
}

export function arm(t: Turn, instance: Instance, kind: "heartbeat" | "output", delayMs: number): void {
  const watch = kind === "heartbeat" ? instance.heartbeat : instance.output;
  if (watch) watch.dueMs = t.nowMs + delayMs;
  t.emit({ type: "SetTimer", key: { id: instance.id, incarnation: instance.status.incarnation, kind }, delayMs });
}

const DEFAULT_HEARTBEAT_MS = 5_000;

/** What the process adapter needs to start the instance's next child. */
export function spawnSpec(state: StackState, instance: Instance): SpawnSpec {
  const config = configOf(state, instance);
  const entry = state.services.get(instance.service);
  const replicas = entry?.replicas ?? 1;
  return {
    name: nameOf(state, instance),
    service: instance.service,
    index: instance.index,
    replicas,
    argv: config.argv,
    cwd: config.cwd,
    env: {
      ...config.env,
      VIGIL_SERVICE: instance.service,
      VIGIL_INSTANCE: String(instance.index),
      VIGIL_REPLICAS: String(replicas),
      VIGIL_HEARTBEAT_MS: String(config.heartbeat?.intervalMs ?? DEFAULT_HEARTBEAT_MS),
      // sd_watchdog_enabled(3); no WATCHDOG_PID: the pinging process may be a shell's child
      ...(config.heartbeat?.via === "notify" ? { WATCHDOG_USEC: String(config.heartbeat.intervalMs * 1000) } : {}),
    },
    // the new child of a start-first restart runs beside the old: a job (cgroup) of its own
    job: instance.lineage % 2 === 0 ? nameOf(state, instance) : `${nameOf(state, instance)}+`,
    sockets: config.sockets,
    ipc: config.heartbeat?.via === "ipc",
    notify: config.heartbeat?.via === "notify",
    stop: config.stop,
    log: { maxBytes: config.logs.maxBytes, keep: config.logs.keep },
    ...(config.adopt ? { adopt: config.adopt, tokenEnv: config.heartbeat?.tokenEnv ?? null, logFile: config.logs.file } : {}),
  };
}
