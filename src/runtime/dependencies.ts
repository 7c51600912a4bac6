import type { ServiceStatus } from "../core/service-state.js";
import type { Health } from "../core/types.js";
import type { DependencyCondition, ServiceConfig } from "../manifest/types.js";

export interface DependencyView {
  readonly status: ServiceStatus;
  readonly health: Health;
  /** false when nothing (heartbeat, ready message, readiness probe) can ever say the service is healthy */
  readonly canBeHealthy: boolean;
}

/** The dependencies of `config` that do not yet meet their condition. */
export function unmetDependencies(config: ServiceConfig, viewOf: (name: string) => DependencyView | undefined): string[] {
  const unmet: string[] = [];
  for (const [dep, condition] of Object.entries(config.dependsOn)) {
    const view = viewOf(dep);
    if (!view || !meets(view, condition)) unmet.push(dep);
  }
  return unmet;
}

function meets(view: DependencyView, condition: DependencyCondition): boolean {
  const s = view.status;
  const completed = s.state === "exited" && s.lastExit?.reason === "exit" && s.lastExit.code === 0;
  switch (condition) {
    case "started":
      return s.state === "running" || completed;
    case "healthy":
      // a service with no way to report health counts as healthy once it runs
      return s.state === "running" && (view.health === "healthy" || !view.canBeHealthy);
    case "completed":
      return completed;
  }
}
