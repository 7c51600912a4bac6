import type { HeartbeatMessage } from "./messages.js";

export type TransportKind = "ipc" | "socket" | "none";

/** Delivers messages to the supervisor. Never throws and never keeps the process alive. */
export interface Transport {
  send(message: HeartbeatMessage): void;
  /** Sends what is pending, then lets go of the connection; later sends are ignored. */
  close(): void;
}
