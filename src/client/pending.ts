import type { HeartbeatMessage, HeartbeatMessageType } from "./messages.js";

const ORDER: readonly HeartbeatMessageType[] = ["ready", "status", "beat"];
/** tasks with reports waiting; beyond this new starts are dropped (the supervisor keeps 1,000 open) */
const MAX_PENDING_TASKS = 2000;
/** reports waiting per task id (an id reused again and again while nobody listens) */
const MAX_PER_TASK = 8;

type TaskMessage = Extract<HeartbeatMessage, { type: "task" }>;

/**
 * Messages waiting for a transport, bounded while nobody listens: only the latest ready, status and beat;
 * per task its reports in order, a progress replacing the one waiting before it; stopping last.
 */
export class PendingMessages {
  private readonly latest = new Map<HeartbeatMessageType, HeartbeatMessage>();
  /** per task id, in the order first reported */
  private readonly tasks = new Map<string, TaskMessage[]>();

  get size(): number {
    return this.latest.size + this.tasks.size;
  }

  put(message: HeartbeatMessage): void {
    if (message.type === "task") return this.putTask(message);
    this.latest.set(message.type, message);
  }

  /** Removes and returns the next message to send: ready, status, beat, then tasks in order, stopping last. */
  take(): HeartbeatMessage | undefined {
    for (const type of ORDER) {
      const message = this.latest.get(type);
      if (message !== undefined) {
        this.latest.delete(type);
        return message;
      }
    }
    for (const [id, queue] of this.tasks) {
      const message = queue.shift();
      if (queue.length === 0) this.tasks.delete(id);
      if (message !== undefined) return message;
    }
    const stopping = this.latest.get("stopping");
    this.latest.delete("stopping");
    return stopping;
  }

  clear(): void {
    this.latest.clear();
    this.tasks.clear();
  }

  private putTask(message: TaskMessage): void {
    const queue = this.tasks.get(message.id);
    if (queue === undefined) {
      if (this.tasks.size < MAX_PENDING_TASKS) this.tasks.set(message.id, [message]);
      return;
    }
    const last = queue.at(-1)!;
    if (message.event === "progress" && last.event === "progress") queue[queue.length - 1] = message;
    else if (queue.length < MAX_PER_TASK) queue.push(message);
  }
}
