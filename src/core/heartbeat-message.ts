// What a child may say to the supervisor (SPEC §3), checked before anything believes it.

export const MESSAGE_TYPES = ["beat", "ready", "status", "stopping"] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface ChildMessage {
  readonly type: MessageType;
  readonly service: string | undefined;
  readonly token: string | undefined;
  readonly data: unknown;
  readonly text: string | undefined;
}

const MAX_STATUS_TEXT = 1024;

/** null when the value is not a message of the protocol */
export function parseChildMessage(value: unknown): ChildMessage | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const m = value as Record<string, unknown>;
  const type = m["type"];
  if (typeof type !== "string" || !(MESSAGE_TYPES as readonly string[]).includes(type)) return null;
  const service = m["service"];
  const token = m["token"];
  const text = m["text"];
  if (service !== undefined && typeof service !== "string") return null;
  if (token !== undefined && typeof token !== "string") return null;
  if (type === "status" && typeof text !== "string") return null;
  return {
    type: type as MessageType,
    service,
    token,
    data: m["data"],
    text: typeof text === "string" ? text.slice(0, MAX_STATUS_TEXT) : undefined,
  };
}
