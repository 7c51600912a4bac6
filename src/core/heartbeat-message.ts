// What a child may say to the supervisor (SPEC §3), checked before anything believes it.
import { checkData, type DataFault } from "./data-bounds.js";

export const MESSAGE_TYPES = ["beat", "ready", "status", "stopping", "task"] as const;
export const TASK_EVENTS = ["start", "progress", "end"] as const;
export type TaskEvent = (typeof TASK_EVENTS)[number];
/** longest task id and name, in characters */
export const MAX_TASK_ID = 256;
export const MAX_TASK_NAME = 256;

/** `{"type":"task","id":"req-42","event":"start","name":"…"}`: a unit of work the child has in hand */
export interface TaskReport {
  readonly id: string;
  readonly event: TaskEvent;
  /** what it is, for people; kept from the start (a later message may set it) */
  readonly name: string | undefined;
}

/** Why input was refused: counted, and logged at a bounded rate. */
export type RejectKind =
  | "bad-json"
  | "bad-message"
  | "bad-data"
  | "unknown-service"
  | "bad-token"
  | "line-too-long"
  | "evicted"
  /** notify protocol: a datagram that is not text of assignments, or holds invalid ones */
  | "bad-datagram"
  | "datagram-too-long";
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface ChildMessage {
  readonly type: MessageType;
  readonly service: string | undefined;
  readonly token: string | undefined;
  /** JSON data within the bounds of data-bounds.ts, or undefined */
  readonly data: unknown;
  readonly text: string | undefined;
  /** type task only */
  readonly task?: TaskReport;
}

/**
 * bad-message: not a message of the protocol. bad-data: a message whose data passes a bound; its
 * service and token are given, so that the speaker can be checked before it is blamed.
 */
export type ParsedMessage =
  | { readonly ok: true; readonly message: ChildMessage }
  | { readonly ok: false; readonly fault: "bad-message" }
  | { readonly ok: false; readonly fault: "bad-data"; readonly dataFault: DataFault; readonly service: string | undefined; readonly token: string | undefined };

const MAX_STATUS_TEXT = 1024;
const BAD_MESSAGE = { ok: false, fault: "bad-message" } as const;

export function parseChildMessage(value: unknown): ParsedMessage {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return BAD_MESSAGE;
  const m = value as Record<string, unknown>;
  const type = m["type"];
  if (typeof type !== "string" || !(MESSAGE_TYPES as readonly string[]).includes(type)) return BAD_MESSAGE;
  const service = m["service"];
  const token = m["token"];
  const text = m["text"];
  if (service !== undefined && typeof service !== "string") return BAD_MESSAGE;
  if (token !== undefined && typeof token !== "string") return BAD_MESSAGE;
  if (type === "status" && typeof text !== "string") return BAD_MESSAGE;
  const task = type === "task" ? taskReport(m) : undefined;
  if (task === null) return BAD_MESSAGE;
  const data = m["data"];
  const dataFault = data === undefined ? null : checkData(data);
  if (dataFault !== null) return { ok: false, fault: "bad-data", dataFault, service, token };
  const message: { -readonly [K in keyof ChildMessage]: ChildMessage[K] } = {
    type: type as MessageType,
    service,
    token,
    data,
    text: typeof text === "string" ? text.slice(0, MAX_STATUS_TEXT) : undefined,
  };
  if (task) message.task = task;
  return { ok: true, message };
}

/** id: 1 to MAX_TASK_ID characters; event: start, progress or end; name: optional, cut to MAX_TASK_NAME. */
function taskReport(m: Record<string, unknown>): TaskReport | null {
  const { id, event, name } = m;
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_TASK_ID) return null;
  if (typeof event !== "string" || !(TASK_EVENTS as readonly string[]).includes(event)) return null;
  if (name !== undefined && typeof name !== "string") return null;
  return { id, event: event as TaskEvent, name: name?.slice(0, MAX_TASK_NAME) };
}
