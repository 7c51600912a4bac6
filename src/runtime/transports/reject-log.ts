import type { Clock } from "../../core/clock.js";
import { LogThrottle } from "../../core/log-throttle.js";
import type { Logger } from "../outputs/logger.js";

export { describeReject } from "../../core/stack/heartbeats.js";

const QUIET_MS = 5_000;

/**
 * Logs rejected input at a bounded rate: the first of a kind at once, then at most one line per
 * kind every 5 s, saying how many were folded into it. A flood costs a counter, not a log line.
 */
export class RejectLog {
  private readonly throttle = new LogThrottle<string>(QUIET_MS);

  /** `what` begins each line: what was rejected, or where */
  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly what = "rejected heartbeat input",
  ) {}

  report(kind: string, service: string | undefined, detail: string): void {
    const folded = this.throttle.admit(`${kind}/${service ?? ""}`, this.clock.now());
    if (folded === null) return;
    const more = folded > 0 ? ` (and ${folded} more in the last ${QUIET_MS / 1000}s)` : "";
    this.logger.log("warn", service ?? null, "message-rejected", `${this.what}: ${detail}${more}`, { kind, folded });
  }
}
