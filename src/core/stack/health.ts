// An instance's health (SPEC §3): from its heartbeats where the manifest asks for them, else from its
// readiness probe (failing = critical: not ready, yet not restarted), else from a `ready` message.
import { healthNow } from "../beat-watch.js";
import type { Health } from "../types.js";
import { configOf, type Instance, type StackState } from "./state.js";

export function healthOf(state: StackState, instance: Instance, nowMs: number): Health {
  // an adopted process with nothing to start it again, gone: failed until it is found again
  if (instance.status.pid === null) return configOf(state, instance).adopt !== null && configOf(state, instance).argv.length === 0 && instance.status.lastExit !== null && instance.status.state !== "stopped" ? "failed" : "unknown";
  const config = configOf(state, instance);
  if (config.heartbeat) {
    // `when: busy` and no task open: idle, its silence expected; well once it has beaten or said ready
    if (!instance.heartbeat && config.heartbeat.when === "busy" && instance.messages.beats > 0) return "healthy";
    const health = instance.heartbeat ? healthNow(instance.heartbeat, nowMs) : "unknown";
    return health === "unknown" && instance.messages.ready ? "healthy" : health;
  }
  const readiness = instance.probes.readiness?.state.status;
  if (readiness === "passing") return "healthy";
  if (readiness === "failing") return "critical";
  return instance.messages.ready ? "healthy" : "unknown";
}

/** false when nothing (heartbeat, ready message, readiness probe) is expected to say the service is healthy */
export function canBeHealthy(state: StackState, instance: Instance): boolean {
  const config = configOf(state, instance);
  return config.heartbeat !== null || config.probes.readiness !== null;
}
