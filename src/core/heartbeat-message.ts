// What a child may say to the supervisor (SPEC §3), checked before anything believes it.
import { checkData, type DataFault } from "./data-bounds.js";

export const MESSAGE_TYPES = ["beat", "ready", "status", "stopping"] as const;

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
  const data = m["data"];
  const dataFault = data === undefined ? null : checkData(data);
  if (dataFault !== null) return { ok: false, fault: "bad-data", dataFault, service, token };
  return {
    ok: true,
    message: { type: type as MessageType, service, token, data, text: typeof text === "string" ? text.slice(0, MAX_STATUS_TEXT) : undefined },
  };
}
