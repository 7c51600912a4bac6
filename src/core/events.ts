import type { ExitReason, FailureReason } from "./types.js";

/** What can happen to one service. Past tense for facts, "Requested" for wishes. */
export type ServiceEvent =
  /** put in line to start; it waits there for its dependencies */
  | { readonly type: "Queued" }
  | { readonly type: "StartRequested" }
  | { readonly type: "StopRequested"; readonly reason: ExitReason }
  | { readonly type: "RestartRequested"; readonly reason: ExitReason }
  /** a child misbehaved (heartbeat, log-stale, limits, probe): end it and apply the restart policy */
  | { readonly type: "FailureDetected"; readonly reason: FailureReason; readonly detail: string }
  /** a dependency it waits for failed to become ready: give up starting (systemd's "dependency failed") */
  | { readonly type: "StartAbandoned"; readonly detail: string }
  /** end the child's whole tree now (second Ctrl-C) */
  | { readonly type: "KillRequested" }
  | { readonly type: "Spawned"; readonly incarnation: number; readonly pid: number }
  | { readonly type: "SpawnFailed"; readonly incarnation: number; readonly error: string }
  | {
      readonly type: "ChildExited";
      readonly incarnation: number;
      readonly code: number | null;
      readonly signal: string | null;
    }
  | { readonly type: "BackoffElapsed" }
  | { readonly type: "StopTimedOut" };

export type ServiceEventType = ServiceEvent["type"];

export const SERVICE_EVENT_TYPES: readonly ServiceEventType[] = [
  "Queued",
  "StartRequested",
  "StopRequested",
  "RestartRequested",
  "FailureDetected",
  "StartAbandoned",
  "KillRequested",
  "Spawned",
  "SpawnFailed",
  "ChildExited",
  "BackoffElapsed",
  "StopTimedOut",
];

export type TimerName = "backoff" | "stop";

/** What the runtime must do. Imperative names; results come back as events. */
export type Effect =
  | { readonly type: "Spawn"; readonly incarnation: number }
  /** send a signal to the child's process group */
  | { readonly type: "Signal"; readonly signal: NodeJS.Signals }
  /** SIGKILL the child's process tree and group */
  | { readonly type: "KillTree" }
  | { readonly type: "StartTimer"; readonly timer: TimerName; readonly delayMs: number }
  | { readonly type: "CancelTimer"; readonly timer: TimerName }
  | {
      readonly type: "Log";
      readonly level: "info" | "warn" | "error";
      readonly event: string;
      readonly msg: string;
      readonly fields?: Readonly<Record<string, unknown>>;
    };
