// The stop order of a shutdown: a service is asked to stop once nothing that depends on it still runs;
// the stack has stopped when every instance is idle.
import { dispatch } from "./step.js";
import { instancesOf, type Instance, type StackState } from "./state.js";
import type { Turn } from "./turn.js";

export function isIdle(instance: Instance): boolean {
  const s = instance.status;
  if (s.pid !== null || s.spawnInFlight) return false;
  return s.state === "stopped" || s.state === "exited" || s.state === "fatal";
}

function serviceIdle(state: StackState, service: string): boolean {
  const entry = state.services.get(service);
  return !entry || instancesOf(state, entry).every(isIdle);
}

/** Services in reverse start order, each with the services that depend on it. */
function stopPlan(state: StackState): { readonly name: string; readonly dependants: readonly string[] }[] {
  const dependants = new Map<string, string[]>();
  for (const entry of state.services.values()) {
    for (const dep in entry.config.dependsOn) {
      const list = dependants.get(dep);
      if (list) list.push(entry.config.name);
      else dependants.set(dep, [entry.config.name]);
    }
  }
  const inOrder = new Set(state.order);
  const names = [...state.order, ...[...state.services.keys()].filter((name) => !inOrder.has(name))];
  return names.reverse().map((name) => ({ name, dependants: dependants.get(name) ?? [] }));
}

/** Asks each service to stop whose dependants are all idle (reverse start order); true once all is idle. */
export function stopReady(t: Turn): boolean {
  const { state } = t;
  // who depends on whom cannot change during a shutdown (reloads are refused), so this is made once
  state.stopPlan ??= stopPlan(state);
  for (const { name, dependants } of state.stopPlan) {
    if (state.stopAsked.has(name)) continue;
    if (!dependants.every((other) => serviceIdle(state, other))) continue;
    state.stopAsked.add(name);
    const entry = state.services.get(name);
    for (const instance of entry ? instancesOf(state, entry) : []) dispatch(t, instance, { type: "StopRequested", reason: "manual" });
  }
  for (const instance of state.instances.values()) if (!isIdle(instance)) return false;
  return true;
}
