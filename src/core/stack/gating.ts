// Start gating: an instance waits in `starting` until what its service depends on is ready
// (`started`, `completed`, `healthy`), and gives up when that can no longer happen.
import type { ServiceStatus } from "../service-state.js";
import type { DependencyCondition, ServiceConfig } from "../../manifest/types.js";
import { canBeHealthy, healthOf } from "./health.js";
import { dispatch } from "./step.js";
import { instancesOf, type Instance, type StackState } from "./state.js";
import type { Turn } from "./turn.js";

/** queued and not yet spawned: waiting for its dependencies */
export function isWaiting(s: ServiceStatus): boolean {
  return s.state === "starting" && !s.spawnInFlight && s.pid === null;
}

/** The dependencies of `config` not met yet: each needs every instance of the dependency to meet its condition. */
export function unmetDependencies(state: StackState, config: ServiceConfig, nowMs: number): string[] {
  const unmet: string[] = [];
  for (const dep in config.dependsOn) {
    const condition = config.dependsOn[dep]!;
    const entry = state.services.get(dep);
    const live = entry ? instancesOf(state, entry).filter((i) => !i.removing) : [];
    if (live.length === 0 || !live.every((i) => meets(state, i, condition, nowMs))) unmet.push(dep);
  }
  return unmet;
}

function meets(state: StackState, instance: Instance, condition: DependencyCondition, nowMs: number): boolean {
  const s = instance.status;
  const completed = s.state === "exited" && s.lastExit?.reason === "exit" && s.lastExit.code === 0;
  switch (condition) {
    case "started":
      return s.state === "running" || completed;
    case "healthy":
      // a service with no way to report health counts as healthy once it runs
      return s.state === "running" && (healthOf(state, instance, nowMs) === "healthy" || !canBeHealthy(state, instance));
    case "completed":
      return completed;
  }
}

/** Starts every waiting instance whose dependencies are met, in start order. */
export function startReady(t: Turn): void {
  const { state } = t;
  for (const name of state.order) {
    const entry = state.services.get(name);
    if (!entry) continue;
    let unmet: string[] | null = null;
    for (const instance of instancesOf(state, entry)) {
      if (!state.waiting.has(instance.id)) continue;
      unmet ??= unmetDependencies(state, entry.config, t.nowMs);
      if (unmet.length === 0) dispatch(t, instance, { type: "StartRequested" });
    }
  }
}

/** Instances still waiting for `service`, whose condition it can no longer meet, give up starting. */
export function abandonDependants(t: Turn, service: string, why: string): void {
  const { state } = t;
  for (const id of [...state.waiting]) {
    const instance = state.instances.get(id);
    const entry = instance && state.services.get(instance.service);
    if (!instance || !entry || !(service in entry.config.dependsOn)) continue;
    if (unmetDependencies(state, entry.config, t.nowMs).includes(service)) dispatch(t, instance, { type: "StartAbandoned", detail: why });
  }
}
