// Everything noteworthy that happens to a stack, as one record: what the journal keeps and alerts match.
import type { LogLevel } from "../logger.js";

export interface VigilEvent {
  /** ISO wall-clock time */
  readonly at: string;
  /** null for the supervisor itself */
  readonly service: string | null;
  /**
   * the supervisor's event name: spawned, exit, restart-scheduled, fatal, failure (fields.reason:
   * heartbeat, log-stale, memory, cpu, probe), spawn-failed, stop-timeout, start-abandoned, health
   * (fields.health, fields.previous), config-applied, config-rejected, limit-breach, disk, up, down, …
   */
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
