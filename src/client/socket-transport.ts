import { createConnection, type Socket } from "node:net";
import { MAX_LINE_BYTES, toLine, toSendable, type HeartbeatMessage } from "./messages.js";
import { PendingMessages } from "./pending.js";
import type { Transport } from "./transport.js";

const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 1000;
// more than this unsent in the socket means the supervisor is not reading; wait for "drain" instead
const MAX_BUFFERED_BYTES = MAX_LINE_BYTES;
// an unfinished write keeps the event loop alive whatever unref() says, so a stuck one is cut off
const STALLED_WRITE_MS = 1000;

/** Line-delimited JSON over the supervisor's Unix socket; reconnects on the next send after a short backoff. */
export class SocketTransport implements Transport {
  private socket: Socket | null = null;
  private connected = false;
  private closing = false;
  private retryDelayMs = 0;
  private retryAtMs = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly pending = new PendingMessages();

  constructor(private readonly path: string) {}

  send(message: HeartbeatMessage): void {
    if (this.closing) return;
    this.pending.put(toSendable(message));
    if (this.connected) this.flush();
    else this.connect(false);
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.connected && this.socket !== null) {
      this.flush();
      this.socket.end();
    } else if (this.socket === null && this.pending.size > 0) {
      this.connect(true); // one last try, so the supervisor hears "stopping"
    }
  }

  private connect(ignoreBackoff: boolean): void {
    if (this.socket !== null) return;
    if (!ignoreBackoff && performance.now() < this.retryAtMs) return;
    const socket = createConnection({ path: this.path });
    this.socket = socket;
    socket.unref();
    socket.on("connect", () => {
      this.connected = true;
      this.retryDelayMs = 0;
      this.flush();
      if (this.closing) socket.end();
    });
    socket.on("drain", () => this.flush());
    socket.on("error", () => {
      // refused, missing, EPIPE, reset: "close" follows and the next send tries again
    });
    socket.on("close", () => this.onClose(socket));
    socket.resume(); // read (and ignore) so the supervisor's hang-up is noticed at once
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.clearStall();
    if (this.closing) {
      this.pending.clear();
      return;
    }
    this.retryDelayMs = this.connected ? FIRST_RETRY_MS : Math.min(MAX_RETRY_MS, Math.max(FIRST_RETRY_MS, this.retryDelayMs * 2));
    this.retryAtMs = performance.now() + this.retryDelayMs;
    this.connected = false;
  }

  private flush(): void {
    const socket = this.socket;
    if (socket === null || !this.connected) return;
    while (socket.writable && socket.writableLength < MAX_BUFFERED_BYTES) {
      const message = this.pending.take();
      if (message === undefined) return;
      socket.write(toLine(message), () => this.wrote(socket));
      if (socket.writableLength > 0 && this.stallTimer === undefined) {
        this.stallTimer = setTimeout(() => socket.destroy(), STALLED_WRITE_MS).unref();
      }
    }
  }

  /** A write finished: the supervisor is reading, so the stall clock starts over. */
  private wrote(socket: Socket): void {
    if (socket !== this.socket) return;
    if (socket.writableLength === 0) this.clearStall();
    else this.stallTimer?.refresh();
  }

  private clearStall(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }
}
