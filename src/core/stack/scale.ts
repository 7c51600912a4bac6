// Replicas (SPEC §6.1): added instances start (after their dependencies); surplus ones stop from the
// highest index down and are dropped once their child is gone.
import { dispatch } from "./step.js";
import { addInstance, type ServiceEntry } from "./state.js";
import type { Turn } from "./turn.js";

/** Brings the service to `entry.replicas` instances; `start`: the kept and added ones start (not when disabled). */
export function reconcile(t: Turn, entry: ServiceEntry, start = true): void {
  const { state } = t;
  const wanted = entry.replicas;
  for (let index = 0; index < Math.max(wanted, entry.instances.length); index++) {
    const existing = state.instances.get(entry.instances[index] ?? "");
    if (index < wanted) {
      if (!existing) {
        const added = addInstance(state, entry, index);
        if (start) dispatch(t, added, { type: "Queued" });
        t.gatingChanged = true;
      } else if (existing.removing) {
        // scaled down and up again before it was gone: it stays, and starts again
        existing.removing = false;
        if (start) dispatch(t, existing, { type: "StartRequested" });
      }
    } else if (existing && !existing.removing) {
      existing.removing = true;
      dispatch(t, existing, { type: "StopRequested", reason: "config" });
      t.dropLater(existing);
    }
  }
}

/** Instances removed and idle leave the state (the highest index first, so that the list stays dense). */
export function dropRemoved(t: Turn, isIdle: (id: string) => boolean): void {
  const { state } = t;
  for (const instance of t.mayDrop ?? []) {
    if (!instance.removing || !isIdle(instance.id)) continue;
    const entry = state.services.get(instance.service);
    state.instances.delete(instance.id);
    state.waiting.delete(instance.id);
    t.emit({ type: "ForgetInstance", id: instance.id });
    if (!entry) continue;
    // by index, so that the others keep their place: the list only shrinks from its end
    if (entry.instances[instance.index] === instance.id) entry.instances[instance.index] = undefined;
    while (entry.instances.length > 0 && entry.instances[entry.instances.length - 1] === undefined) entry.instances.pop();
    if (entry.instances.length === 0 && !state.manifest.services.some((c) => c.name === entry.config.name)) {
      state.services.delete(entry.config.name);
      t.publish("removed", { service: entry.config.name, instance: null }, {});
    }
  }
  t.mayDrop = null;
}
