// An event as the journal keeps it and `vigil events` reads it back: a DomainEvent, or any line of an
// older journal that has the same shape.
import type { LogLevel } from "./logger.js";

export interface VigilEvent {
  /** ISO wall-clock time */
  readonly at: string;
  /** null for the supervisor itself */
  readonly service: string | null;
  /** the instance's name (web.1 of a replicated service); absent in older journals */
  readonly instance?: string | null;
  /** the kind of event: spawned, exit, restart-scheduled, fatal, failure, health, config-applied, … */
  readonly kind: string;
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Somewhere events go: the journal, the alert rules. publish() must never block or throw. */
export interface EventSink {
  publish(event: VigilEvent): void;
  close(): Promise<void>;
}
