// Where the bus's events are kept and told: the journal (STATE_DIR/events.jsonl) and, when the manifest
// has alert rules, their dispatcher. New alert rules (a reload) get new sinks; the old ones deliver what
// they hold and close.
import type { Clock } from "../../core/clock.js";
import { NOT_JOURNALED, type DomainEvent } from "../../core/stack/domain-events.js";
import type { Manifest } from "../../manifest/types.js";
import type { Logger } from "./logger.js";
import type { WriteReport } from "../state/problems.js";
import { AlertDispatcher, type AlertTotals } from "./alerts/dispatcher.js";
import type { EventSink } from "./event.js";
import { Journal, journalPath } from "./journal.js";

export interface EventSinks {
  publish(event: DomainEvent): void;
  /** the alert dispatcher, for its counters in /metrics; null without alert rules */
  readonly alerts: AlertDispatcher | null;
  close(): Promise<void>;
}

/** `logger` is the plain supervisor log, never one that feeds these sinks (a failing alert would alert). */
export function createEventSinks(manifest: Manifest, logger: Logger, clock: Clock, totals: AlertTotals, journalReport: WriteReport): EventSinks {
  const journal = new Journal(journalPath(manifest.stateDir), logger, { report: journalReport });
  const alerts = manifest.alerts.length > 0 ? new AlertDispatcher(manifest.alerts, { clock, logger, totals }) : null;
  if (alerts) warnUnsetVariables(manifest, logger);
  const sinks: EventSink[] = alerts ? [journal, alerts] : [journal];
  return {
    alerts,
    publish(event) {
      if (event.level === "debug" || NOT_JOURNALED.has(event.kind)) return;
      for (const sink of sinks) {
        try {
          sink.publish(event);
        } catch (err) {
          logger.log("error", null, "event-sink", `an event sink failed: ${(err as Error).message}`);
        }
      }
    },
    async close() {
      await Promise.all(sinks.map((sink) => sink.close().catch(() => undefined)));
    },
  };
}

/** An alert that cannot be sent is better known at start than at the first failure. */
function warnUnsetVariables(manifest: Manifest, logger: Logger): void {
  manifest.alerts.forEach((rule, index) => {
    const { target } = rule;
    const names = target.kind === "telegram" ? [target.tokenEnv, target.chatIdEnv] : target.kind === "webhook" && target.urlEnv ? [target.urlEnv] : [];
    const unset = names.filter((name) => (process.env[name] ?? "") === "");
    if (unset.length > 0) {
      logger.log("warn", null, "alert-config", `alert rule ${index + 1}: ${unset.join(", ")} not set in vigil's environment; its alerts will fail`);
    }
  });
}
