// unix-dgram (an optional native module) gives Node the AF_UNIX datagram sockets of the systemd notify
// protocol. It is loaded on first use only; where it cannot be (no compiler at install, another
// platform), `heartbeat.via: notify` is refused when the manifest is read, and vigil's own messages to
// systemd are left out.
import { createRequire } from "node:module";

export interface DgramSocket {
  on(event: "message", listener: (buf: Buffer | null, rinfo: unknown) => void): this;
  on(event: "error", listener: (err: Error) => void): this;
  on(event: "listening" | "connect" | "writable", listener: () => void): this;
  on(event: "congestion", listener: (buf: Buffer) => void): this;
  once(event: "error", listener: (err: Error) => void): this;
  removeAllListeners(event?: string): this;
  bind(path: string): void;
  send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error) => void): void;
  close(): void;
}

export interface UnixDgram {
  createSocket(type: "unix_dgram", listener?: (buf: Buffer | null, rinfo: unknown) => void): DgramSocket;
}

export type Loaded = { readonly ok: true; readonly module: UnixDgram } | { readonly ok: false; readonly why: string };

let loaded: Loaded | null = null;

export function loadUnixDgram(): Loaded {
  if (loaded) return loaded;
  try {
    const module = createRequire(import.meta.url)("unix-dgram") as UnixDgram;
    if (typeof module.createSocket !== "function") throw new Error("unix-dgram has no createSocket");
    loaded = { ok: true, module };
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    loaded = { ok: false, why: `the optional module unix-dgram cannot be loaded (${message.split("\n")[0]})` };
  }
  return loaded;
}

/** null when datagram sockets can be used, else why not */
export function notifyUnavailable(): string | null {
  const result = loadUnixDgram();
  return result.ok ? null : result.why;
}
