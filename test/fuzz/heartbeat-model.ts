// What the heartbeat socket should make of a line (SPEC §3 and README "Heartbeats"), written apart from
// the supervisor's code so that the fuzz suites check it against an independent reading.

export const MAX_LINE_BYTES = 64 * 1024;
export const MAX_DATA_DEPTH = 32;
export const MAX_DATA_BYTES = 16 * 1024;
const TYPES = ["beat", "ready", "status", "stopping"];

export type Verdict =
  | { readonly kind: "ignored" }
  | { readonly kind: "too-long" }
  | { readonly kind: "rejected"; readonly service: string | null }
  | { readonly kind: "accepted"; readonly service: string; readonly type: string; readonly data: unknown; readonly text: string | undefined };

/** arrays and objects inside one another, counted without recursion */
export function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The verdict on one complete line (without its newline), given each service's current token. */
export function verdictOf(lineBytes: Buffer, tokens: ReadonlyMap<string, string>): Verdict {
  if (lineBytes.length === 0) return { kind: "ignored" };
  if (lineBytes.length > MAX_LINE_BYTES) return { kind: "too-long" };
  let m: unknown;
  try {
    m = JSON.parse(lineBytes.toString("utf8"));
  } catch {
    return { kind: "rejected", service: null };
  }
  if (typeof m !== "object" || m === null || Array.isArray(m)) return { kind: "rejected", service: null };
  const { service, token, type, text, data } = m as Record<string, unknown>;
  if (typeof type !== "string" || !TYPES.includes(type)) return { kind: "rejected", service: null };
  if (service !== undefined && typeof service !== "string") return { kind: "rejected", service: null };
  if (token !== undefined && typeof token !== "string") return { kind: "rejected", service: null };
  if (type === "status" && typeof text !== "string") return { kind: "rejected", service: null };
  if (typeof service !== "string" || !tokens.has(service)) return { kind: "rejected", service: null };
  if (token !== tokens.get(service)) return { kind: "rejected", service };
  if (data !== undefined && (depthOf(data) > MAX_DATA_DEPTH || Buffer.byteLength(JSON.stringify(data)) > MAX_DATA_BYTES)) {
    return { kind: "rejected", service };
  }
  return { kind: "accepted", service, type, data, text: typeof text === "string" ? text.slice(0, 1024) : undefined };
}

/** what one connection's bytes come to: the verdicts the server acts on, in order, and whether it closes the connection */
/** `ended`: the client has closed its side, so a last line without its newline is a line too */
export function connectionVerdicts(bytes: Buffer, tokens: ReadonlyMap<string, string>, ended = false, maxRejectsInARow = 3): { verdicts: Verdict[]; closed: boolean } {
  const verdicts: Verdict[] = [];
  let inARow = 0;
  let start = 0;
  for (let nl = bytes.indexOf(10); ; nl = bytes.indexOf(10, start)) {
    const line = nl >= 0 ? bytes.subarray(start, nl) : bytes.subarray(start);
    // a last line without its newline counts once the client has ended, or when it is already too long
    const v =
      nl >= 0 || (ended && line.length > 0) ? verdictOf(line, tokens)
      : line.length > MAX_LINE_BYTES ? ({ kind: "too-long" } as const)
      : ({ kind: "ignored" } as const);
    if (v.kind === "too-long") {
      verdicts.push(v);
      return { verdicts, closed: true };
    }
    if (v.kind === "rejected") {
      verdicts.push(v);
      if (++inARow >= maxRejectsInARow) return { verdicts, closed: true };
    } else if (v.kind === "accepted") {
      verdicts.push(v);
      inARow = 0;
    }
    if (nl < 0) return { verdicts, closed: false };
    start = nl + 1;
  }
}
