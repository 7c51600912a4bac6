// `sockets:` of a service (SPEC §6.2): listening sockets vigil binds once and passes to every instance,
// as systemd's socket activation does. `tcp://HOST:PORT` or `unix:PATH` (relative to the manifest), or
// `{ address, mode, owner }` for a unix socket whose file needs other permissions.
import { resolve } from "node:path";
import * as z from "./zod.js";
import type { SocketAddress, SocketConfig } from "./types.js";
import { describeValue } from "./units.js";

/** LISTEN_FDNAMES: names are joined by ":" and may hold no control characters */
const SOCKET_NAME = /^[A-Za-z0-9_.-]{1,255}$/;
const OWNER = /^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/;

type WrittenAddress = { readonly kind: "tcp"; readonly host: string; readonly port: number } | { readonly kind: "unix"; readonly path: string };

const address = z.string().transform((text, ctx): WrittenAddress => {
  const trimmed = text.trim();
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^\s:[\]/]+):(\d{1,5})$/.exec(trimmed);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port >= 1 && port <= 65535) return { kind: "tcp", host: (tcp[1] ?? "").replace(/^\[(.*)\]$/, "$1"), port };
  }
  if (trimmed.startsWith("unix:") && trimmed.length > 5 && !trimmed.includes("\0")) return { kind: "unix", path: trimmed.slice(5) };
  ctx.addIssue({ code: "custom", message: `expected "tcp://HOST:PORT" or "unix:PATH", got ${describeValue(text)}`, input: text });
  return z.NEVER;
});

const mode = z.union([z.string().regex(/^0?[0-7]{3}$/, 'a mode is octal, such as "0660"'), z.int().min(0).max(0o777)]);

const socketEntry = z.union([
  address,
  z.strictObject({
    address: address.describe('"tcp://HOST:PORT" or "unix:PATH"'),
    mode: mode.optional().describe('unix sockets: the file\'s mode, such as "0660"'),
    owner: z.string().regex(OWNER, 'expected "user" or "user:group"').optional().describe('unix sockets: "user" or "user:group"'),
  }),
]);

export const socketsSchema = z.record(z.string().regex(SOCKET_NAME, "a socket name takes only letters, digits, _ . - (it goes into LISTEN_FDNAMES)"), socketEntry);

export type SocketsInput = z.output<typeof socketsSchema>;

/** The sockets in manifest order, unix paths made absolute against the manifest's directory. */
export function resolveSockets(sockets: SocketsInput | undefined, dir: string): SocketConfig[] {
  return Object.entries(sockets ?? {}).map(([name, entry]) => {
    const full = "address" in entry ? entry : { address: entry, mode: undefined, owner: undefined };
    const written = full.address;
    const addr: SocketAddress = written.kind === "unix" ? { kind: "unix", path: resolve(dir, written.path) } : written;
    const m = full.mode;
    return { name, address: addr, mode: m === undefined ? null : typeof m === "number" ? m : parseInt(m, 8), owner: full.owner ?? null };
  });
}

/** `tcp://127.0.0.1:8080` or `unix:/srv/app/admin.sock`: one socket's address as text. */
export function addressText(address: SocketAddress): string {
  if (address.kind === "unix") return `unix:${address.path}`;
  return `tcp://${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
}
