// `checks.cpu` and `checks.memory` beside `checks.disk`: the host's CPU and memory use judged against
// warn and critical thresholds (the disk's judgement, disk-level.ts), an event when the level changes.
// As 002's monitor reports them, a check is healthy, degraded (warn), critical, or unknown when it is
// not configured (or not measured yet).
import { judgeDisk, type DiskLevel } from "../disk-level.js";
import type { Health } from "../types.js";
import type { Turn } from "./turn.js";
import type { StackState } from "./state.js";

export type HostCheck = "cpu" | "memory";

export function hostChecked(t: Turn): void {
  const { state } = t;
  const host = state.host;
  if (!host) return;
  const used: Record<HostCheck, number> = {
    cpu: host.cpuPercent,
    memory: host.memTotalBytes > 0 ? ((host.memTotalBytes - host.memAvailableBytes) / host.memTotalBytes) * 100 : 0,
  };
  for (const check of ["cpu", "memory"] as const) {
    const config = state.manifest.checks[check];
    if (!config) continue;
    const previous = state.hostLevels[check] ?? "ok";
    const { level, event } = judgeDisk(previous, used[check], config);
    state.hostLevels[check] = level;
    if (event) t.publish("host-check", null, { check, level, kind: event.kind, usedPercent: used[check], thresholdPercent: event.thresholdPercent });
  }
}

const HEALTH_OF: Readonly<Record<DiskLevel, Health>> = { ok: "healthy", warn: "degraded", critical: "critical" };

/** Each host check as a health level: unknown when it is not configured or not measured yet. */
export function hostHealth(state: StackState): Record<"disk" | HostCheck, Health> {
  const { checks } = state.manifest;
  const measured = state.host !== null;
  return {
    disk: checks.disk && measured && state.host?.disk ? HEALTH_OF[state.diskLevel] : "unknown",
    cpu: checks.cpu && measured && state.hostLevels.cpu !== undefined ? HEALTH_OF[state.hostLevels.cpu] : "unknown",
    memory: checks.memory && measured && state.hostLevels.memory !== undefined ? HEALTH_OF[state.hostLevels.memory] : "unknown",
  };
}
