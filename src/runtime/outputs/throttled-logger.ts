import type { Clock } from "../../core/clock.js";
import { formatMs } from "../../core/format.js";
import { LogThrottle } from "../../core/log-throttle.js";
import type { Logger } from "./logger.js";

const QUIET_MS = 5_000;

/**
 * A logger for the servers: their warnings and errors of one kind come at most once per 5 s, saying how
 * many were held back. A listening socket out of descriptors fails every connection it is offered (EMFILE
 * on accept), and each failure would otherwise be a line.
 */
export function throttledLogger(logger: Logger, clock: Clock, quietMs = QUIET_MS): Logger {
  const throttle = new LogThrottle<string>(quietMs);
  return {
    log(level, service, event, msg, fields) {
      if (level === "warn" || level === "error") {
        const held = throttle.admit(`${event}/${service ?? ""}`, clock.now());
        if (held === null) return;
        if (held > 0) msg = `${msg} (and ${held} more in the last ${formatMs(quietMs)})`;
      }
      logger.log(level, service, event, msg, fields);
    },
    flush: () => logger.flush(),
  };
}
