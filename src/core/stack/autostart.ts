// Which services a stack starts by itself: every one not disabled, or with `vigil up NAME...` only
// those named and what they depend on, transitively (a dependency is started even if disabled: the
// named service cannot run without it). The others stay defined and stopped until `vigil start`.
import type { ServiceConfig } from "../../manifest/types.js";
import type { StackState } from "./state.js";

export function servicesToStart(state: StackState, only: readonly string[] | undefined): Set<string> {
  const configs = new Map<string, ServiceConfig>();
  for (const [name, entry] of state.services) configs.set(name, entry.config);
  if (only === undefined || only.length === 0) {
    return new Set([...configs.values()].filter((c) => !c.disabled).map((c) => c.name));
  }
  return withDependencies(configs, only);
}

/** `names` and everything they depend on, directly or not. */
export function withDependencies(configs: ReadonlyMap<string, ServiceConfig>, names: readonly string[]): Set<string> {
  const found = new Set<string>();
  const pending = [...names];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (found.has(name)) continue;
    const config = configs.get(name);
    if (!config) continue;
    found.add(name);
    pending.push(...Object.keys(config.dependsOn));
  }
  return found;
}
