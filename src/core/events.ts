import type { EventFields } from "./stack/domain-events.js";
import type { ExitReason, FailureReason, SignalName } from "./types.js";

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

/** What the machine says happened, with its figures: published as a domain event. */
export type NoteKind = "spawned" | "spawn-failed" | "start-abandoned" | "failure" | "stop-timeout" | "exit" | "fatal" | "restart-scheduled";
export type Note = { readonly [K in NoteKind]: { readonly kind: K; readonly fields: EventFields[K] } }[NoteKind];

/** What the runtime must do. Imperative names; results come back as events. */
export type Effect =
  | { readonly type: "Spawn"; readonly incarnation: number }
  /** the stop signal to every process of the child's job (then SIGCONT) */
  | { readonly type: "Signal"; readonly signal: SignalName }
  /** SIGKILL to every process of the child's job */
  | { readonly type: "KillTree" }
  | { readonly type: "StartTimer"; readonly timer: TimerName; readonly delayMs: number }
  | { readonly type: "CancelTimer"; readonly timer: TimerName }
  | { readonly type: "Note"; readonly note: Note };
