// An AF_UNIX datagram socket of the test's own (unix-dgram), to send to a notify socket or to stand in
// for systemd's. Each is closed after its test.
import { createRequire } from "node:module";
import { unlinkSync } from "node:fs";
import { afterEach } from "vitest";
import type { DgramSocket, UnixDgram } from "../../src/runtime/notify/unix-dgram.js";

const dgram = createRequire(import.meta.url)("unix-dgram") as UnixDgram;

export interface Received {
  readonly text: string;
  /** Date.now() when it arrived */
  readonly atMs: number;
}

export interface Datagrams {
  /** a socket bound at `path`, collecting what arrives */
  listen(path: string): { readonly received: Received[] };
  /** sends each datagram to `path`, waiting while the receiver's queue is full; resolves with how many were sent */
  send(path: string, datagrams: Iterable<Buffer | string>): Promise<number>;
}

export function useDatagrams(): Datagrams {
  const open: { socket: DgramSocket; path: string | null }[] = [];
  afterEach(() => {
    for (const { socket, path } of open.splice(0)) {
      try {
        socket.close();
        if (path) unlinkSync(path);
      } catch {
        // gone
      }
    }
  });
  return {
    listen(path) {
      const received: Received[] = [];
      const socket = dgram.createSocket("unix_dgram", (buf) => {
        if (buf) received.push({ text: buf.toString(), atMs: Date.now() });
      });
      socket.bind(path);
      open.push({ socket, path });
      return { received };
    },
    async send(path, datagrams) {
      const socket = dgram.createSocket("unix_dgram");
      open.push({ socket, path: null });
      let sent = 0;
      for (const d of datagrams) {
        const buf = typeof d === "string" ? Buffer.from(d) : d;
        for (;;) {
          const outcome = await new Promise<"sent" | "full">((resolve, reject) =>
            socket.send(buf, 0, buf.length, path, (err) => {
              if (!err) return resolve("sent");
              // the receiver's queue is full: "congestion" (code 1) or EAGAIN (-11), as unix-dgram tells it
              const code = (err as { code?: unknown }).code;
              if (code === 1 || code === -11) return resolve("full");
              reject(err);
            }),
          );
          if (outcome === "sent") break;
          await new Promise((r) => setTimeout(r, 1));
        }
        sent++;
      }
      return sent;
    },
  };
}
