// One step's working context: the state it changes, the time it happens at, and the effects it collects.
import type { Effect } from "./effects.js";
import { domainEvent, type EventFields, type EventKind, type Subject } from "./domain-events.js";
import { nameOf, type Instance, type StackState } from "./state.js";
import { eventAction, healthAction } from "./actions.js";
import type { Health } from "../types.js";

export interface StepContext {
  /** monotonic milliseconds */
  readonly nowMs: number;
  /** wall-clock milliseconds, for event times and the status document only */
  readonly wallMs: number;
  /** a uniform draw in [0, 1), for backoff jitter */
  readonly random: () => number;
}

export class Turn {
  readonly effects: Effect[] = [];
  /** something a waiting instance may depend on has changed: look at the waiting ones once, at the end */
  gatingChanged = false;
  /** instances that may have become idle after being removed; made when there is one (most steps are beats) */
  mayDrop: Set<Instance> | null = null;

  constructor(
    readonly state: StackState,
    readonly ctx: StepContext,
  ) {}

  get nowMs(): number {
    return this.ctx.nowMs;
  }

  dropLater(instance: Instance): void {
    (this.mayDrop ??= new Set()).add(instance);
  }

  emit(effect: Effect): void {
    this.effects.push(effect);
  }

  /** Publishes an event about an instance, a service (a Subject), or the supervisor (null). */
  publish<K extends EventKind>(kind: K, about: Instance | Subject | null, fields: EventFields[K]): void {
    this.effects.push({ type: "Publish", event: domainEvent(kind, this.subject(about), fields, this.ctx.wallMs) });
    // `actions:` of an instance run on its health levels and task timeouts (actions.ts)
    if (about !== null && "id" in about) {
      if (kind === "health") healthAction(this, about, (fields as { readonly health: Health }).health);
      // with tasks.on_timeout: restart the failure that follows runs the action (failureTakenOver in actions.ts)
      else if (kind === "task-timeout" && (fields as EventFields["task-timeout"]).onTimeout !== "restart") eventAction(this, about, "task-timeout", domainEvent(kind, this.subject(about), fields, this.ctx.wallMs).message);
    }
  }

  subject(about: Instance | Subject | null): Subject {
    if (about === null) return { service: null, instance: null };
    return "id" in about ? { service: about.service, instance: nameOf(this.state, about) } : about;
  }
}
