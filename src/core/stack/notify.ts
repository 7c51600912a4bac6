// The systemd notify protocol as one more heartbeat transport (SPEC §6.3). Each child of a `via: notify`
// instance has a datagram socket of its own, so the socket says who is speaking (the protocol has no
// token): READY=1 is the `ready` message, WATCHDOG=1 a beat, STATUS= the status text, STOPPING=1
// `stopping`; WATCHDOG=trigger fails the heartbeat at once, and EXTEND_TIMEOUT_USEC gives more time
// before the first beat is required.
import { extendStartup } from "../beat-watch.js";
import type { ChildMessage } from "../heartbeat-message.js";
import type { NotifyDatagram, NotifyItem } from "../notify-message.js";
import { arm } from "./children.js";
import { healthOf } from "./health.js";
import { heartbeatFailed, reject, take } from "./heartbeats.js";
import type { InstanceId } from "./ids.js";
import type { Instance } from "./state.js";
import type { Turn } from "./turn.js";

export function notifyReceived(t: Turn, id: InstanceId, incarnation: number, datagram: NotifyDatagram): void {
  const instance = t.state.instances.get(id);
  if (!instance) return;
  const empty = datagram.items.length === 0 && datagram.ignored.length === 0;
  // the valid assignments of a datagram are taken even beside invalid ones, as systemd does
  if (datagram.invalid > 0 || empty) reject(t, "bad-datagram", instance.service);
  // the socket of an earlier child, or a child that has just exited: its last words change nothing
  if (incarnation !== instance.status.incarnation || instance.token === null) return;
  for (const item of datagram.items) takeItem(t, instance, item);
}

function takeItem(t: Turn, instance: Instance, item: NotifyItem): void {
  switch (item.kind) {
    case "ready":
      return take(t, instance, message(instance, "ready"));
    case "watchdog":
      return take(t, instance, message(instance, "beat"));
    case "status":
      return take(t, instance, message(instance, "status", item.text));
    case "stopping":
      return take(t, instance, message(instance, "stopping"));
    case "extend": {
      const watch = instance.heartbeat;
      const delayMs = watch ? extendStartup(watch, t.nowMs, item.ms) : null;
      if (delayMs !== null) arm(t, instance, "heartbeat", delayMs);
      return;
    }
    case "trigger": {
      if (!instance.heartbeat || instance.heartbeat.reported === "failed") return;
      heartbeatFailed(t, instance, healthOf(t.state, instance, t.nowMs), "the child asked to be restarted (WATCHDOG=trigger)");
      return;
    }
    default: {
      const never: never = item;
      throw new Error(`bug: unknown notify item ${JSON.stringify(never)}`);
    }
  }
}

function message(instance: Instance, type: ChildMessage["type"], text?: string): ChildMessage {
  return { type, service: instance.service, token: instance.token ?? undefined, data: undefined, text };
}
