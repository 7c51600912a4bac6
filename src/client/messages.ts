import { checkData } from "../core/data-bounds.js";

export type HeartbeatMessageType = "beat" | "ready" | "status" | "stopping" | "task";

/** What a child says, before it is signed with its service name and token. */
export type ClientMessage =
  | { readonly type: "beat"; readonly data?: unknown }
  | { readonly type: "ready" }
  | { readonly type: "status"; readonly text: string }
  | { readonly type: "stopping" }
  | { readonly type: "task"; readonly id: string; readonly event: "start" | "progress" | "end"; readonly name?: string };

export interface Credentials {
  readonly service: string;
  readonly token: string;
}

/** One line on the heartbeat socket, or one message on the IPC channel. */
export type HeartbeatMessage = Credentials & ClientMessage;

export const MAX_LINE_BYTES = 64 * 1024;
// 6 bytes is the longest a character can become in JSON (\uXXXX), so this always fits a line
const MAX_STATUS_CHARS = 8 * 1024;

export function signMessage(credentials: Credentials, message: ClientMessage): HeartbeatMessage {
  return { service: credentials.service, token: credentials.token, ...message };
}

/** The wire form; throws on data JSON cannot encode. */
export function toLine(message: HeartbeatMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * Shrinks a message until it can be sent: drops data the supervisor would refuse (over the bounds of
 * core/data-bounds.ts, or not JSON) or that makes the line too long, cuts long status text.
 */
export function toSendable(message: HeartbeatMessage): HeartbeatMessage {
  if (message.type === "status" && message.text.length > MAX_STATUS_CHARS) {
    return { ...message, text: message.text.slice(0, MAX_STATUS_CHARS) };
  }
  if (message.type !== "beat" || message.data === undefined) return message;
  // the beat still proves the child is alive
  if (checkData(message.data) !== null) return { service: message.service, token: message.token, type: "beat" };
  try {
    if (Buffer.byteLength(toLine(message)) <= MAX_LINE_BYTES) return message;
  } catch {
    // what checkData let through and JSON.stringify still cannot write
  }
  return { service: message.service, token: message.token, type: "beat" };
}
