// One datagram of the systemd notify protocol (sd_notify(3)): newline-separated assignments such as
// READY=1, WATCHDOG=1 or STATUS=text. What vigil acts on is taken once per datagram; what applies to a
// service manager's other features (MAINPID=, FDSTORE=, ERRNO=, …) is ignored by name; lines that are
// not assignments, and known keys with values the protocol does not have, are invalid.

/** a datagram longer than this is refused whole (systemd's own clients send a few dozen bytes) */
export const MAX_NOTIFY_BYTES = 4096;
const MAX_STATUS_TEXT = 1024;
/** EXTEND_TIMEOUT_USEC beyond this (about 24.8 days in µs, the longest timer) is taken as this */
const MAX_EXTEND_USEC = 2_147_483_647 * 1000;

export type NotifyItem =
  | { readonly kind: "status"; readonly text: string }
  | { readonly kind: "extend"; readonly ms: number }
  | { readonly kind: "ready" }
  | { readonly kind: "watchdog" }
  | { readonly kind: "stopping" }
  | { readonly kind: "trigger" };

export interface NotifyDatagram {
  /** at most one of each kind, in the order they are to be taken: status, extend, ready, watchdog, stopping, trigger */
  readonly items: readonly NotifyItem[];
  /** keys of well-formed assignments that vigil does not act on */
  readonly ignored: readonly string[];
  /** lines that are not assignments, or known keys with values the protocol does not have */
  readonly invalid: number;
}

const KEY = /^[A-Z_][A-Z0-9_]*$/;
const ORDER: readonly NotifyItem["kind"][] = ["status", "extend", "ready", "watchdog", "stopping", "trigger"];

export function parseNotify(text: string): NotifyDatagram {
  const found = new Map<NotifyItem["kind"], NotifyItem>();
  const ignored: string[] = [];
  let invalid = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const eq = line.indexOf("=");
    const key = eq > 0 ? line.slice(0, eq) : "";
    if (!KEY.test(key) || line.includes("\0")) {
      invalid++;
      continue;
    }
    const item = itemOf(key, line.slice(eq + 1));
    if (item === "invalid") invalid++;
    else if (item === null) ignored.push(key);
    else found.set(item.kind, item);
  }
  const items = ORDER.flatMap((kind) => {
    const item = found.get(kind);
    return item ? [item] : [];
  });
  return { items, ignored, invalid };
}

/** null: a key vigil does not act on */
function itemOf(key: string, value: string): NotifyItem | "invalid" | null {
  switch (key) {
    case "READY":
      return value === "1" ? { kind: "ready" } : "invalid";
    case "STOPPING":
      return value === "1" ? { kind: "stopping" } : "invalid";
    case "WATCHDOG":
      return value === "1" ? { kind: "watchdog" } : value === "trigger" ? { kind: "trigger" } : "invalid";
    case "STATUS":
      return { kind: "status", text: value.slice(0, MAX_STATUS_TEXT) };
    case "EXTEND_TIMEOUT_USEC": {
      if (!/^[0-9]{1,20}$/.test(value)) return "invalid";
      return { kind: "extend", ms: Math.ceil(Math.min(Number(value), MAX_EXTEND_USEC) / 1000) };
    }
    default:
      return null;
  }
}
