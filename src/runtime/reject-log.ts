import type { Clock } from "../core/clock.js";
import { MAX_DATA_BYTES, MAX_DATA_DEPTH } from "../core/data-bounds.js";
import { LogThrottle } from "../core/log-throttle.js";
import type { RejectKind } from "./heartbeat-server.js";
import type { Logger } from "./logger.js";

const REJECT_TEXT: Record<RejectKind, string> = {
  "bad-json": "a line that is not JSON",
  "bad-message": "a message that is not of the protocol (type beat, ready, status or stopping)",
  "bad-data": `a message whose data is nested deeper than ${MAX_DATA_DEPTH} or larger than ${MAX_DATA_BYTES / 1024} KiB as JSON; message dropped`,
  "unknown-service": "a message naming no known service",
  "bad-token": "a message with a wrong or outdated token",
  "line-too-long": "a line over 64 KiB; connection dropped",
  evicted: "the socket was full: the connection quiet longest was closed to make room for a new one",
};

export function describeReject(kind: string): string {
  return REJECT_TEXT[kind as RejectKind] ?? kind;
}

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
