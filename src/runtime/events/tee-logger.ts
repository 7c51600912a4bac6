import type { Clock } from "../../core/clock.js";
import { isoOfWall } from "../iso-time.js";
import type { Logger } from "../logger.js";
import type { EventSink } from "./event.js";

/** Kinds that are about the supervisor's own plumbing, not the stack: kept out of the journal. */
const NOT_EVENTS = new Set(["signal", "control-error", "registry", "http-error", "http-listening", "message-rejected"]);

/** A logger that also hands every noteworthy record to the event sinks. */
export function teeLogger(logger: Logger, sinks: () => readonly EventSink[], clock: Clock): Logger {
  return {
    log(level, service, event, msg, fields) {
      logger.log(level, service, event, msg, fields);
      if (level === "debug" || NOT_EVENTS.has(event)) return;
      const record = { at: isoOfWall(clock.wallNow()), service, kind: event, level, message: msg, fields: fields ?? {} };
      for (const sink of sinks()) {
        try {
          sink.publish(record);
        } catch (err) {
          logger.log("error", null, "event-sink", `an event sink failed: ${(err as Error).message}`);
        }
      }
    },
    flush: () => logger.flush(),
  };
}
