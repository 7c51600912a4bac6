// A resource sweep: each running child's CPU and memory (kept for the status), its limits judged
// (limits.ts: over for `for` → restart), and the host's disk against its thresholds.
import { hostChecked } from "./host-checks.js";
import { judgeDisk } from "../disk-level.js";
import { formatBreach, judgeLimits } from "../limits.js";
import { dispatch } from "./step.js";
import type { HostSample, InstanceSample } from "./inputs.js";
import { configOf } from "./state.js";
import type { Turn } from "./turn.js";

export function resourcesSampled(t: Turn, samples: readonly InstanceSample[], host: HostSample | null): void {
  const { state } = t;
  const byId = new Map(samples.map((s) => [s.id, s]));
  for (const instance of state.instances.values()) {
    const sample = byId.get(instance.id);
    // a sample taken under an earlier child, or of a child being stopped, is not judged
    if (!sample || sample.pid !== instance.status.pid || instance.status.state !== "running") {
      if (instance.status.pid === null || sample) instance.sample = null;
      continue;
    }
    instance.sample = sample;
    const limits = configOf(state, instance).limits;
    if (!limits) continue;
    const { state: next, breach } = judgeLimits(instance.limits, { atMs: t.nowMs, cpuPercent: sample.cpuPercent, rssBytes: sample.rssBytes }, limits);
    instance.limits = next;
    if (!breach) continue;
    const text = formatBreach(breach);
    t.publish("limit-breach", instance, { kind: breach.kind, reason: breach.kind, measured: breach.measured, limit: breach.limit, text });
    // the failure line names the kind already: "cpu: 98.6% over limit 30% for 2.6s; restarting"
    dispatch(t, instance, { type: "FailureDetected", reason: breach.kind, detail: text.slice(breach.kind.length + 1) });
  }
  if (host) {
    state.host = host;
    diskChecked(t);
    hostChecked(t);
  }
}

function diskChecked(t: Turn): void {
  const { state } = t;
  const check = state.manifest.checks.disk;
  const disk = state.host?.disk;
  if (!check || !disk) return;
  const { level, event } = judgeDisk(state.diskLevel, disk.usedPercent, { warnPercent: check.warnPercent, criticalPercent: check.criticalPercent });
  state.diskLevel = level;
  if (!event) return;
  t.publish("disk", null, { level, kind: event.kind, path: disk.path, usedPercent: disk.usedPercent, thresholdPercent: event.thresholdPercent });
}
