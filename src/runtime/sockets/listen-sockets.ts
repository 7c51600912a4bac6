// The listening sockets of `sockets:` (SPEC §6.2). vigil binds each once and keeps it for as long as the
// manifest names it at the same address; every child of the service gets it from fd 3 on. vigil never
// accepts on them: connections that come while no child accepts wait in the kernel's backlog.
//
// Node has no way to listen(2) without also accepting (its listening handles accept whatever comes), so
// the socket is bound here with net's own server-handle factory (the one cluster uses for shared
// handles: bound, not listening, not polled) and put into the listening state by a short-lived helper
// (`node -e`, the socket on its fd 3) that exits before its event loop could accept anything.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, lstatSync, readFileSync, unlinkSync } from "node:fs";
import net from "node:net";
import { getSystemErrorName } from "node:util";
import type { Manifest, SocketConfig } from "../../manifest/types.js";
import { addressText } from "../../manifest/sockets-schema.js";

/** a libuv TCP or Pipe handle as net makes it: bound, with its descriptor */
interface RawHandle {
  readonly fd: number;
  close(): void;
}

type CreateServerHandle = (address: string, port: number, addressType: number) => RawHandle | number;

interface Held {
  /** what it was bound for: a change of any of it binds anew */
  readonly key: string;
  readonly handle: RawHandle;
  /** a unix socket's file, removed at close */
  readonly path: string | null;
}

export type SocketFds = { readonly ok: true; readonly fds: readonly number[] } | { readonly ok: false; readonly error: string };

/** the kernel's queue of connections not yet accepted (Node's default; capped by net.core.somaxconn) */
const BACKLOG = 511;
const LISTEN_HELPER = `require("node:net").createServer().on("error", (e) => { console.error(e.message); process.exit(1); }).listen({ fd: 3, backlog: ${BACKLOG} }, () => process.exit(0));`;

export class ListenSockets {
  readonly #held = new Map<string, Held>();

  /** The service's sockets as descriptors, in manifest order; a socket new or moved is bound now. */
  fdsFor(service: string, sockets: readonly SocketConfig[]): SocketFds {
    const fds: number[] = [];
    for (const socket of sockets) {
      const id = `${service}\u0000${socket.name}`;
      const key = keyOf(socket);
      let held = this.#held.get(id);
      if (held?.key !== key) {
        if (held) release(held);
        this.#held.delete(id);
        const bound = bind(socket, key);
        if (typeof bound === "string") return { ok: false, error: `socket ${socket.name}: ${bound}` };
        this.#held.set(id, (held = bound));
      }
      fds.push(held.handle.fd);
    }
    return { ok: true, fds };
  }

  /** Closes what the manifest no longer names: a removed service's sockets, a removed or moved socket. */
  retain(manifest: Manifest): void {
    const wanted = new Map<string, string>();
    for (const service of manifest.services) for (const socket of service.sockets) wanted.set(`${service.name}\u0000${socket.name}`, keyOf(socket));
    for (const [id, held] of this.#held) {
      if (wanted.get(id) === held.key) continue;
      release(held);
      this.#held.delete(id);
    }
  }

  close(): void {
    for (const held of this.#held.values()) release(held);
    this.#held.clear();
  }
}

function keyOf(socket: SocketConfig): string {
  return `${addressText(socket.address)} ${socket.mode ?? ""} ${socket.owner ?? ""}`;
}

function bind(socket: SocketConfig, key: string): Held | string {
  const create = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;
  const address = socket.address;
  let handle: RawHandle | number;
  let path: string | null = null;
  if (address.kind === "unix") {
    path = address.path;
    const stale = removeStaleSocket(path);
    if (stale !== null) return stale;
    handle = create(path, -1, -1);
  } else {
    const host = address.host === "localhost" ? "127.0.0.1" : address.host;
    const family = net.isIP(host);
    if (family === 0) return `${addressText(address)}: the host must be an IP address (or localhost)`;
    handle = create(host, address.port, family);
  }
  if (typeof handle === "number") return `cannot bind ${addressText(address)}: ${getSystemErrorName(handle)}`;
  const held: Held = { key, handle, path };
  try {
    if (path !== null && socket.mode !== null) chmodSync(path, socket.mode);
    if (path !== null && socket.owner !== null) {
      const { uid, gid } = owner(socket.owner);
      chownSync(path, uid, gid);
    }
  } catch (err) {
    release(held);
    return `cannot set the mode or owner of ${path}: ${(err as Error).message}`;
  }
  const listened = spawnSync(process.execPath, ["-e", LISTEN_HELPER], { stdio: ["ignore", "ignore", "pipe", handle.fd], timeout: 10_000 });
  if (listened.status !== 0) {
    release(held);
    const why = listened.error?.message ?? (listened.stderr?.toString().trim() || `the helper ended with ${listened.signal ?? listened.status}`);
    return `cannot listen on ${addressText(address)}: ${why}`;
  }
  return held;
}

function release(held: Held): void {
  held.handle.close();
  if (held.path === null) return;
  try {
    unlinkSync(held.path);
  } catch {
    // already gone
  }
}

/** A socket file left by an earlier run is removed; any other file at the path is not vigil's to remove. */
function removeStaleSocket(path: string): string | null {
  try {
    if (!lstatSync(path).isSocket()) return `${path} exists and is not a socket`;
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") return `cannot use ${path}: ${(err as Error).message}`;
  }
  return null;
}

/** "user" or "user:group", by name (from /etc/passwd and /etc/group) or number; -1 leaves one unchanged. */
function owner(text: string): { uid: number; gid: number } {
  const [user = "", group] = text.split(":");
  return { uid: idOf(user, "/etc/passwd"), gid: group === undefined ? -1 : idOf(group, "/etc/group") };
}

function idOf(name: string, file: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const line = readFileSync(file, "utf8").split("\n").find((l) => l.split(":")[0] === name);
  const id = line?.split(":")[2];
  if (id === undefined) throw new Error(`no ${file.endsWith("passwd") ? "user" : "group"} ${name}`);
  return Number(id);
}
