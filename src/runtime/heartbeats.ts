import type { Clock } from "../core/clock.js";
import { HeartbeatMonitor } from "../core/heartbeat-monitor.js";
import { parseChildMessage, type ChildMessage } from "../core/heartbeat-message.js";
import type { Health } from "../core/types.js";
import type { ServiceConfig } from "../manifest/types.js";
import type { RejectKind } from "./heartbeat-server.js";

/** What the supervisor knows of one service's beats, across its restarts. */
export interface BeatBook {
  beats: number;
  rejected: number;
  lastBeatWallMs: number | null;
  lastBeatData: unknown;
  ready: boolean;
  statusText: string | null;
}

export interface HubEvents {
  /** the service's beats stopped: restart it */
  failed(name: string, detail: string): void;
  /** the health level changed: `ready` arrived, a beat made it healthy, or beats are late */
  healthChanged(name: string, health: Health, previous: Health): void;
}

/**
 * Joins the heartbeat transports to the monitor: checks who is speaking (name and current token),
 * keeps the books, and turns a silent service into a failure.
 */
export class HeartbeatHub {
  readonly monitor: HeartbeatMonitor;
  private readonly books = new Map<string, BeatBook>();
  private readonly configs = new Map<string, ServiceConfig>();
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly clock: Clock,
    private readonly events: HubEvents,
  ) {
    this.monitor = new HeartbeatMonitor(clock);
    this.monitor.on("failed", ({ id, ageMs }) => {
      const hb = this.configs.get(id)?.heartbeat;
      const detail = hb
        ? this.books.get(id)?.lastBeatWallMs === null
          ? `no heartbeat since the start (startup_grace ${hb.startupGraceMs} ms, interval ${hb.intervalMs} ms)`
          : `no heartbeat for ${Math.round(ageMs)} ms (interval ${hb.intervalMs} ms, misses ${hb.misses})`
        : "no heartbeat";
      this.events.failed(id, detail);
    });
    this.monitor.on("recovered", ({ id, previous }) => this.events.healthChanged(id, "healthy", previous));
    this.monitor.on("degraded", ({ id, previous }) => this.events.healthChanged(id, "degraded", previous));
    this.monitor.on("critical", ({ id, previous }) => this.events.healthChanged(id, "critical", previous));
    this.monitor.on("failed", ({ id, previous }) => this.events.healthChanged(id, "failed", previous));
  }

  configure(config: ServiceConfig): void {
    this.configs.set(config.name, config);
    if (!this.books.has(config.name)) {
      this.books.set(config.name, { beats: 0, rejected: 0, lastBeatWallMs: null, lastBeatData: null, ready: false, statusText: null });
    }
  }

  remove(name: string): void {
    this.monitor.unwatch(name);
    this.configs.delete(name);
    this.books.delete(name);
    this.tokens.delete(name);
  }

  /** A new child of `name` runs with `token`; earlier tokens stop counting. */
  spawned(name: string, token: string): void {
    this.tokens.set(name, token);
    const book = this.books.get(name);
    // what the child before said is not news about this one (`rejected` counts for the service)
    if (book) Object.assign(book, { beats: 0, lastBeatWallMs: null, lastBeatData: null, ready: false, statusText: null });
    const hb = this.configs.get(name)?.heartbeat;
    if (hb) this.monitor.watch(name, { intervalMs: hb.intervalMs, misses: hb.misses, startupGraceMs: hb.startupGraceMs });
  }

  exited(name: string): void {
    this.tokens.delete(name);
    this.monitor.unwatch(name);
    const book = this.books.get(name);
    if (book) book.ready = false;
  }

  book(name: string): BeatBook | undefined {
    return this.books.get(name);
  }

  health(name: string): Health {
    const book = this.books.get(name);
    if (!this.tokens.has(name)) return "unknown";
    const health = this.monitor.health(name);
    if (health === "unknown" && book?.ready) return "healthy";
    return health;
  }

  /** A line from the socket: it must name a service and carry that service's current token. */
  fromSocket(value: unknown): { kind: RejectKind; service?: string } | null {
    const parsed = parseChildMessage(value);
    if (!parsed.ok && parsed.fault === "bad-message") return { kind: "bad-message" };
    const { service, token } = parsed.ok ? parsed.message : parsed;
    if (service === undefined || !this.configs.has(service)) return { kind: "unknown-service" };
    const current = this.tokens.get(service);
    if (current === undefined || token !== current) return this.reject(service, "bad-token");
    if (!parsed.ok) return this.reject(service, "bad-data");
    this.take(service, parsed.message);
    return null;
  }

  /** A message over a child's own IPC channel: the channel says who it is; a token, if sent, must fit. */
  fromIpc(name: string, token: string, value: unknown): { kind: RejectKind; service?: string } | null {
    const parsed = parseChildMessage(value);
    if (!parsed.ok && parsed.fault === "bad-message") return this.reject(name, "bad-message");
    const message = parsed.ok ? parsed.message : parsed;
    if ((message.service !== undefined && message.service !== name) || (message.token !== undefined && message.token !== token)) {
      return this.reject(name, "bad-token");
    }
    if (!parsed.ok) return this.reject(name, "bad-data");
    // the last words of a child that has just exited ("stopping") arrive after its exit: drop them quietly
    if (this.tokens.get(name) !== token) return null;
    this.take(name, parsed.message);
    return null;
  }

  private reject(name: string, kind: RejectKind): { kind: RejectKind; service: string } {
    return { kind, service: name };
  }

  private take(name: string, message: ChildMessage): void {
    const book = this.books.get(name);
    if (!book) return;
    switch (message.type) {
      case "beat":
      case "ready": {
        const before = this.health(name);
        book.beats++;
        // the hot path: one wall-clock reading and one health computation per beat
        book.lastBeatWallMs = this.clock.wallNow();
        if (message.data !== undefined) book.lastBeatData = message.data;
        const watched = this.monitor.beat(name, message.data, book.lastBeatWallMs);
        if (message.type === "ready") book.ready = true;
        // after a beat a watched service is healthy, an unwatched one once it is ready
        if (before !== "healthy" && before !== "degraded" && before !== "critical" && (watched || book.ready)) {
          // the first beat or ready: recoveries from degraded/critical come as monitor events
          this.events.healthChanged(name, "healthy", before);
        }
        return;
      }
      case "status":
        book.statusText = message.text ?? null;
        return;
      case "stopping":
        // the child says it is going away on purpose: its silence from now on is not a hang
        this.monitor.unwatch(name);
        return;
    }
  }
}
