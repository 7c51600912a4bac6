// What the HTTP API needs from the supervisor; the supervisor is adapted to it, so the server is tested with a plain object.
import type { StatusDocument } from "../../control/status-document.js";
import type { ExitReason, Health } from "../../core/types.js";
import type { AlertCounters } from "../outputs/alerts/dispatcher.js";
import type { PingSignal } from "../../core/ping.js";

export type ControlCommand = "start" | "stop" | "restart";

export interface HeartbeatServiceDoc {
  readonly name: string;
  readonly health: Health;
  /** ISO time of the last beat, null before the first one */
  readonly last_beat_at: string | null;
  /** age of the last beat, null before the first one */
  readonly beat_age_ms: number | null;
  readonly interval_ms: number;
  readonly misses: number;
}

/** GET /api/heartbeat/status: the services that have a heartbeat configured. */
export interface HeartbeatStatusDoc {
  readonly monitor: {
    readonly running: boolean;
    readonly watched: number;
    readonly healthy: number;
    readonly degraded: number;
    readonly critical: number;
    readonly failed: number;
  };
  readonly services: readonly HeartbeatServiceDoc[];
}

/** restarts per instance (by its name), then per reason since the supervisor started; monotonic, a missing reason is 0 */
export type RestartCounts = Readonly<Record<string, Readonly<Partial<Record<ExitReason, number>>>>>;

export interface ApiBackend {
  /** every instance when names is absent or empty; throws UnknownServiceError */
  status(names?: readonly string[], opts?: { readonly history?: boolean }): StatusDocument;
  heartbeatStatus(): HeartbeatStatusDoc;
  /** throws UnknownServiceError, or ShuttingDownError once the supervisor is stopping */
  control(command: ControlCommand, names: readonly string[]): void;
  restartCounts(): RestartCounts;
  /** the alerts of this stack by outcome, and deliveries in hand */
  alertCounters(): AlertCounters;
  /** GET /api/services/NAME/beats: the kept beats of a window (wall ms, null: open); throws UnknownServiceError */
  beats?(name: string, sinceWallMs: number | null, untilWallMs: number | null): unknown;
  /** GET /api/services/NAME/tasks: every open task; throws UnknownServiceError */
  tasks?(name: string): unknown;
  /**
   * POST /ping/NAME[/start|/fail|/CODE]: a ping of a `ping:` check with the bearer token given (null: none);
   * httpToken is what a check without token_env requires. Absent: no route.
   */
  ping?(name: string, signal: PingSignal, token: string | null, httpToken: string | null): PingAnswer;
}

export type PingAnswer = { readonly ok: true } | { readonly ok: false; readonly status: 401 | 403 | 404; readonly error: string };

/** a name that is no service or instance of the stack; answered with 404 */
export class UnknownServiceError extends Error {
  constructor(
    message: string,
    readonly known: readonly string[],
  ) {
    super(message);
    this.name = "UnknownServiceError";
  }
}

/** thrown by ApiBackend.control() while the supervisor shuts down; answered with 503 */
export class ShuttingDownError extends Error {
  constructor(message = "the supervisor is shutting down") {
    super(message);
    this.name = "ShuttingDownError";
  }
}
