// A probe check ended: the tracker counts it (probe-tracker.ts), the next check is due an interval later,
// a failing liveness probe restarts the child, and readiness decides health where there are no heartbeats.
import { trackProbe } from "../probe-tracker.js";
import { healthOf } from "./health.js";
import type { InstanceId } from "./ids.js";
import { configOf, type Instance } from "./state.js";
import { dispatch } from "./step.js";
import type { Turn } from "./turn.js";

export function probeFinished(t: Turn, id: InstanceId, incarnation: number, probe: "liveness" | "readiness", ok: boolean, detail: string): void {
  const instance = t.state.instances.get(id);
  const slot = instance?.probes[probe];
  if (!instance || !slot || instance.status.incarnation !== incarnation || instance.status.pid === null) return;
  const config = configOf(t.state, instance).probes[probe];
  if (!config) return;
  const before = healthOf(t.state, instance, t.nowMs);
  const step = trackProbe(slot.state, { ok, detail, atMs: t.nowMs }, config.failures);
  slot.state = step.state;
  t.emit({ type: "SetTimer", key: { id, incarnation, kind: `probe:${probe}` }, delayMs: config.intervalMs });
  if (step.changed === null) return;
  if (probe === "liveness") {
    if (step.changed === "failing") {
      dispatch(t, instance, { type: "FailureDetected", reason: "probe", detail: `liveness probe failed ${step.state.consecutiveFailures} times: ${step.state.lastDetail ?? "?"}` });
    }
    return;
  }
  t.publish("readiness", instance, { status: step.changed });
  const after = healthOf(t.state, instance, t.nowMs);
  if (after !== before) t.publish("health", instance, { health: after, previous: before });
  t.gatingChanged = true;
}

/** A probe's timer fired: its next check is due. */
export function probeDue(t: Turn, instance: Instance, probe: "liveness" | "readiness"): void {
  const config = configOf(t.state, instance);
  const check = config.probes[probe];
  if (!check || !instance.probes[probe] || instance.status.pid === null) return;
  t.emit({ type: "RunProbe", id: instance.id, incarnation: instance.status.incarnation, probe, config: check, cwd: config.cwd });
}
