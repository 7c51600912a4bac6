// An accepted connection read into one buffer that every connection shares, without the stream
// machinery: libuv reads into the buffer and a callback takes the bytes at once, with no Buffer made
// per read, no Readable push, no 'data' event and no nextTick to read more. With 1,000 services beating
// once a second over connections of their own, that machinery was 1.5–1.8 % of a core of the
// supervisor's 11 % (BENCHMARKS.md, "Beats read without the stream machinery").
//
// Node offers this (`onread` of net.Socket) only to sockets it is given a handle for, not to those a
// server accepts. A server made with `pauseOnConnect` hands over sockets whose handle has not started
// reading; the handle is moved into a socket of its own with `onread`, and the shell is destroyed
// (which counts the connection out of the server). Where the handle is not what this expects (another
// Node), the connection is read as a stream, as before.
import { Socket } from "node:net";

/** libuv reads up to this many bytes of one connection per read */
export const SHARED_READ_BYTES = 64 * 1024;

/** What a connection's bytes go to: `bytes` holds them in [0, n) until the callback returns. */
export type BytesHandler = (n: number, bytes: Buffer) => void;

interface HandleShape {
  useUserBuffer?: unknown;
  readStart?: unknown;
}

/**
 * The socket that now reads `accepted` (paused on connect) into `shared`, or null when this Node's
 * socket has no handle to move: the caller reads it as a stream then.
 */
export function readIntoShared(accepted: Socket, shared: Buffer, onBytes: BytesHandler): Socket | null {
  const shell = accepted as unknown as { _handle?: HandleShape | null };
  const handle = shell._handle;
  if (!handle || typeof handle.useUserBuffer !== "function" || typeof handle.readStart !== "function") return null;
  shell._handle = null;
  accepted.destroy();
  // `handle` is not in SocketConstructorOpts: Node's own server makes its sockets this way
  const options = { handle, onread: { buffer: shared, callback: (n: number, bytes: Uint8Array) => void onBytes(n, bytes as Buffer) } };
  return new Socket(options as ConstructorParameters<typeof Socket>[0]);
}

/** A buffer for readIntoShared, of its own (not a slice of Node's pool). */
export function sharedReadBuffer(): Buffer {
  return Buffer.allocUnsafeSlow(SHARED_READ_BYTES);
}
