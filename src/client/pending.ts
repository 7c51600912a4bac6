import type { HeartbeatMessage, HeartbeatMessageType } from "./messages.js";

const ORDER: readonly HeartbeatMessageType[] = ["ready", "status", "beat", "stopping"];

/** Messages waiting for a transport: only the latest of each type, so memory stays bounded while nobody listens. */
export class PendingMessages {
  private readonly latest = new Map<HeartbeatMessageType, HeartbeatMessage>();

  get size(): number {
    return this.latest.size;
  }

  put(message: HeartbeatMessage): void {
    this.latest.set(message.type, message);
  }

  /** Removes and returns the next message to send: ready before status before beat, stopping last. */
  take(): HeartbeatMessage | undefined {
    for (const type of ORDER) {
      const message = this.latest.get(type);
      if (message !== undefined) {
        this.latest.delete(type);
        return message;
      }
    }
    return undefined;
  }

  clear(): void {
    this.latest.clear();
  }
}
