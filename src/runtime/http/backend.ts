// What the HTTP API needs from the supervisor; the supervisor is adapted to it, so the server is tested with a plain object.
import type { StatusDocument, SupervisorDoc } from "../../control/status-document.js";
import type { ExitReason, Health } from "../../core/types.js";
import type { AlertCounters } from "../outputs/alerts/dispatcher.js";
import type { PingSignal } from "../../core/ping.js";
import type { DomainEvent } from "../../core/stack/domain-events.js";
import type { VigilEvent } from "../outputs/event.js";

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
  /** someone read figures over HTTP (/api/status, /metrics) and will come back for fresh ones */
  readFigures?(): void;
  /** runs N instances of a service; throws UnknownServiceError, ShuttingDownError, or BadRequestError */
  scale?(service: string, replicas: number): void;
  /** what the dashboard follows; without it, / and /api/stream are not served */
  readonly dashboard?: DashboardSource;
}

/** one line of a child's output, as captured */
export interface OutputLine {
  /** the instance's name */
  readonly instance: string;
  readonly stream: "out" | "err";
  readonly text: string;
  /** wall-clock ms when it was read */
  readonly atMs: number;
}

/** per service, what the page draws that the status document leaves out; nothing secret (no env, no command) */
export interface ServiceLayout {
  readonly name: string;
  readonly depends_on: Readonly<Record<string, string>>;
  /** the live count (vigil scale), not only the manifest's */
  readonly replicas: number;
  readonly heartbeat: { readonly interval_ms: number; readonly misses: number } | null;
  readonly schedule: string | null;
  readonly disabled: boolean;
}

export interface DashboardSource {
  /** domain events as the loop publishes them; returns the unsubscribe */
  subscribe(listener: (event: DomainEvent) => void): () => void;
  /** every line of children's output as it is captured; returns the unsubscribe */
  onOutput(listener: (line: OutputLine) => void): () => void;
  /** the last `count` events of the journal, oldest first */
  journal(count: number): Promise<readonly VigilEvent[]>;
  /** the last `count` lines of an instance's captured output, oldest first */
  logTail(instance: string, count: number): Promise<readonly OutputLine[]>;
  layout(): readonly ServiceLayout[];
  /** status.json's text each time it is written (the full document, without the resource history) */
  onStatus(listener: (json: string) => void): () => void;
  /** the status document's supervisor part alone */
  supervisor(): SupervisorDoc;
}

/** a request the supervisor refuses as malformed (a replica count out of range); answered with 400 */
export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadRequestError";
  }
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
