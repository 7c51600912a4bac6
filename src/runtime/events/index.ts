import type { Clock } from "../../core/clock.js";
import type { Manifest } from "../../manifest/types.js";
import { AlertDispatcher } from "../alerts/dispatcher.js";
import type { Logger } from "../logger.js";
import type { WriteReport } from "../problems.js";
import { realClock } from "../real-clock.js";
import type { EventSink } from "./event.js";
import { Journal, journalPath } from "./journal.js";

/**
 * The sinks a stack's events go to: the journal (STATE_DIR/events.jsonl) and, when the manifest has
 * alert rules, their dispatcher. `logger` must be the plain supervisor log, not one that feeds these
 * sinks. Alert rules are read once: a reload that changes them takes effect at the next start.
 */
export function createEventSinks(manifest: Manifest, logger: Logger, clock: Clock = realClock, journalReport?: WriteReport): EventSink[] {
  const sinks: EventSink[] = [new Journal(journalPath(manifest.stateDir), logger, journalReport ? { report: journalReport } : {})];
  if (manifest.alerts.length > 0) {
    sinks.push(new AlertDispatcher(manifest.alerts, { clock, logger }));
    warnUnsetVariables(manifest, logger);
  }
  return sinks;
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
