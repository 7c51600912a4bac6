// What the supervisor tells a service manager above it (systemd's notify protocol, SPEC §6.3): that the
// stack has started (once, the first time no instance is still starting), a one-line summary, that it
// is stopping, and that its loop is alive. The effects are plain data; with no manager above, the
// adapter drops them.
import type { ServiceState } from "../types.js";
import { instancesInOrder, type StackState } from "./state.js";
import type { Turn } from "./turn.js";

/** Every instance has been started, or has failed to start: none is still starting (or waiting to). */
export function allStarted(state: StackState): boolean {
  for (const instance of state.instances.values()) {
    if (!instance.removing && instance.status.state === "starting") return false;
  }
  return true;
}

/** READY=1 the first time the started stack has no instance still starting. */
export function announceReady(t: Turn): void {
  const { state } = t;
  if (!state.began || state.readyAnnounced || state.shuttingDown || !allStarted(state)) return;
  state.readyAnnounced = true;
  t.emit({ type: "Announce", what: "ready" });
}

/** Answers those waiting for the start (`vigil up -d`) once it is over, or once a shutdown cuts it short. */
export function answerStarted(t: Turn): void {
  const { state } = t;
  if (state.startedReplies.length === 0) return;
  if (state.shuttingDown) {
    for (const to of state.startedReplies.splice(0)) t.emit({ type: "Reply", to, answer: { ok: false, error: "the supervisor is shutting down", code: "shutting-down" } });
    return;
  }
  if (!state.began || !allStarted(state)) return;
  for (const to of state.startedReplies.splice(0)) t.emit({ type: "Reply", to, answer: { ok: true } });
}

/** the summary's order: the running first, then what is on its way, then what is down */
const SUMMARY_ORDER: readonly ServiceState[] = ["running", "starting", "backoff", "stopping", "stopped", "exited", "fatal"];

/** "12 running, 1 backoff": instances by state, states with none left out. */
export function summary(state: StackState): string {
  const counts = new Map<string, number>();
  for (const instance of instancesInOrder(state)) counts.set(instance.status.state, (counts.get(instance.status.state) ?? 0) + 1);
  const parts = SUMMARY_ORDER.flatMap((s) => (counts.has(s) ? [`${counts.get(s)} ${s}`] : []));
  return parts.length === 0 ? "no services" : parts.join(", ");
}
