import { toSendable, type HeartbeatMessage } from "./messages.js";
import { PendingMessages } from "./pending.js";
import type { Transport } from "./transport.js";

// messages handed to the channel but not yet written; beyond this the supervisor is not reading
const MAX_IN_FLIGHT = 8;

/** Node's IPC channel to the supervisor (a child started with `via: ipc`). */
export class IpcTransport implements Transport {
  private inFlight = 0;
  private closed = false;
  private readonly pending = new PendingMessages();

  constructor() {
    // the channel must not keep the child alive once its own work is done
    process.channel?.unref();
  }

  static available(): boolean {
    return typeof process.send === "function" && process.channel !== undefined;
  }

  send(message: HeartbeatMessage): void {
    if (this.closed) return;
    this.pending.put(toSendable(message));
    this.flush();
  }

  close(): void {
    this.closed = true;
  }

  private flush(): void {
    while (this.inFlight < MAX_IN_FLIGHT) {
      if (!process.connected || process.send === undefined) {
        this.pending.clear(); // the supervisor is gone and cannot come back on this channel
        return;
      }
      const message = this.pending.take();
      if (message === undefined) return;
      this.inFlight++;
      try {
        // with a callback, a closed channel reports to it instead of emitting "error" on process
        process.send(message, undefined, undefined, () => {
          this.inFlight--;
          this.flush();
        });
      } catch {
        this.inFlight--;
      }
    }
  }
}
