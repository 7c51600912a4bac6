// The one bus of domain events: the loop publishes, the journal, the alerts, the logger, status.json,
// metrics and the library's emitter listen. A listener that throws is reported, never the loop's problem.
import type { DomainEvent } from "../../core/stack/domain-events.js";

export type Listener = (event: DomainEvent) => void;

export class EventBus {
  readonly #listeners = new Set<Listener>();

  constructor(private readonly onListenerError: (err: unknown, event: DomainEvent) => void) {}

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(event: DomainEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
