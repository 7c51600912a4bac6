// The alert rules as an event sink. publish() only decides (core/alert-policy.ts) and queues: delivery
// runs beside supervision, at most maxInFlight at once, with a bounded queue that drops its oldest.
// A slow, failing or hanging receiver costs a slot, a counter and a rate-limited log line, nothing else.
import { hostname } from "node:os";
import { alertPayload, AlertPolicy, type Alert, type AlertDecision, type AlertPayload } from "../../../core/alert-policy.js";
import type { Clock, TimerHandle } from "../../../core/clock.js";
import { LogThrottle } from "../../../core/log-throttle.js";
import type { AlertRule } from "../../../manifest/types.js";
import type { EventSink, VigilEvent } from "../event.js";
import type { Logger } from "../logger.js";
import { runAlertCommand } from "./command.js";
import { sendWebhook, type Delivery, type Env } from "./webhook.js";

export type Deliver = (rule: AlertRule, payload: AlertPayload, signal: AbortSignal) => Promise<Delivery>;

export interface DispatcherOptions {
  readonly clock: Clock;
  /** the supervisor's log: delivery failures and drops (never an event sink, or failures would alert) */
  readonly logger: Logger;
  readonly host?: string;
  readonly env?: Env;
  readonly maxInFlight?: number;
  readonly maxQueued?: number;
  /** at close, how long alerts still queued or in flight may take before they are abandoned */
  readonly closeTimeoutMs?: number;
  /** how often at most a failing rule is logged */
  readonly failureLogMs?: number;
  /** the real webhook or command by default */
  readonly deliver?: Deliver;
  /** where deliveries are counted: one per stack, kept across the dispatchers of its reloads */
  readonly totals?: AlertTotals;
}

/** Monotonic counts of a stack's alerts, for metrics. */
export interface AlertTotals {
  delivered: number;
  failed: number;
  dropped: number;
  retries: number;
  folded: number;
}

export function newAlertTotals(): AlertTotals {
  return { delivered: 0, failed: 0, dropped: 0, retries: 0, folded: 0 };
}

export interface AlertCounters {
  /** alerts that reached their receiver */
  readonly delivered: number;
  /** alerts given up after their retries */
  readonly failed: number;
  /** alerts never tried: the queue was full, or the supervisor was stopping */
  readonly dropped: number;
  /** further attempts after a failed one */
  readonly retries: number;
  /** events a cooldown folded into a later message ("and N more"), counted when that message leaves */
  readonly folded: number;
  readonly inFlight: number;
  readonly queued: number;
}

const FAILURE_LOG_MS = 30_000;


interface Job {
  readonly rule: AlertRule;
  readonly alert: Alert;
}

export class AlertDispatcher implements EventSink {
  private readonly policy: AlertPolicy;
  private readonly queue: Job[] = [];
  private readonly running = new Set<AbortController>();
  /**
   * rule and service of each delivery in flight: alerts of one service to one rule go out in order
   * (a "recovered" must not overtake its "failed"); different services and rules go side by side
   */
  private readonly busy = new Set<string>();
  /** one line per failing rule per failureLogMs */
  private readonly failureLog: LogThrottle<number>;
  private droppedSinceLog = 0;
  private dropQuietUntilMs = -Infinity;
  private timer: { handle: TimerHandle; atMs: number } | null = null;
  private closed = false;
  private idle: (() => void) | null = null;
  private readonly host: string;
  private readonly deliver: Deliver;
  private readonly totals: AlertTotals;

  constructor(
    private readonly rules: readonly AlertRule[],
    private readonly opts: DispatcherOptions,
  ) {
    this.policy = new AlertPolicy(rules);
    this.failureLog = new LogThrottle(opts.failureLogMs ?? FAILURE_LOG_MS);
    this.host = opts.host ?? hostname();
    const env = opts.env ?? process.env;
    const totals = (this.totals = opts.totals ?? newAlertTotals());
    this.deliver = opts.deliver ?? ((rule, payload, signal) => realDelivery(rule, payload, signal, env, () => totals.retries++));
  }

  /** the stack's totals with this dispatcher's work in hand */
  counters(): AlertCounters {
    return { ...this.totals, inFlight: this.inFlight, queued: this.queued };
  }

  get inFlight(): number {
    return this.running.size;
  }

  get queued(): number {
    return this.queue.length;
  }

  publish(event: VigilEvent): void {
    if (this.closed) return;
    this.take(this.policy.offer(event, this.opts.clock.now()));
  }

  /** Sends what cooldowns still hold, then waits for deliveries (at most closeTimeoutMs) and abandons the rest. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.take(this.policy.flush(this.opts.clock.now(), true));
    this.closed = true;
    this.disarm();
    if (this.running.size > 0 || this.queue.length > 0) {
      const done = new Promise<void>((resolve) => (this.idle = resolve));
      const limit = new Promise<void>((resolve) => setTimeout(resolve, this.opts.closeTimeoutMs ?? 2_000).unref());
      await Promise.race([done, limit]);
    }
    const abandoned = this.queue.splice(0).length;
    if (abandoned > 0) this.drop(abandoned, "the supervisor stopped first");
    for (const controller of this.running) controller.abort();
    if (this.running.size > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }

  private take(decision: AlertDecision): void {
    for (const alert of decision.alerts) {
      const rule = this.rules[alert.rule];
      this.totals.folded += alert.folded;
      if (rule) this.enqueue({ rule, alert });
    }
    this.arm(decision.flushAtMs);
  }

  private arm(atMs: number | null): void {
    if (this.closed || (this.timer && this.timer.atMs === atMs)) return;
    this.disarm();
    if (atMs === null) return;
    const { clock } = this.opts;
    const handle = clock.setTimer(Math.max(0, atMs - clock.now()), () => {
      this.timer = null;
      this.take(this.policy.flush(clock.now()));
    });
    this.timer = { handle, atMs };
  }

  private disarm(): void {
    if (this.timer) this.opts.clock.clearTimer(this.timer.handle);
    this.timer = null;
  }

  private enqueue(job: Job): void {
    if (this.queue.length >= (this.opts.maxQueued ?? 64)) {
      this.queue.shift();
      this.drop(1, "too many alerts waiting");
    }
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    for (let i = 0; i < this.queue.length && this.running.size < (this.opts.maxInFlight ?? 8); ) {
      const job = this.queue[i]!;
      if (this.busy.has(orderKey(job))) i++;
      else this.start(this.queue.splice(i, 1)[0]!);
    }
    if (this.running.size === 0 && this.queue.length === 0) this.idle?.();
  }

  private start(job: Job): void {
    const { rule, alert } = job;
    const controller = new AbortController();
    const key = orderKey(job);
    this.running.add(controller);
    this.busy.add(key);
    const payload = alertPayload(alert, this.host);
    const index = alert.rule;
    void this.deliver(rule, payload, controller.signal)
      .catch((err: unknown): Delivery => ({ ok: false, attempts: 1, detail: `bug in delivery: ${(err as Error)?.message ?? String(err)}` }))
      .then((delivery) => {
        if (delivery.ok) {
          this.totals.delivered++;
          this.opts.logger.log("debug", alert.service, "alert-sent", `alert rule ${index + 1}: ${alert.kind} sent`, { rule: index + 1, kind: alert.kind });
        } else {
          this.totals.failed++;
          this.logFailure(index, alert, delivery);
        }
      })
      .finally(() => {
        this.running.delete(controller);
        this.busy.delete(key);
        this.pump();
      });
  }

  /** The first failure of a rule at once, then at most one line per failureLogMs with the count between. */
  private logFailure(index: number, alert: Alert, delivery: Delivery): void {
    const more = this.failureLog.admit(index, this.opts.clock.now());
    if (more === null) return;
    const tries = delivery.attempts === 1 ? "1 attempt" : `${delivery.attempts} attempts`;
    const also = more > 0 ? ` (and ${more} more failed alerts of this rule since the last report)` : "";
    this.opts.logger.log("warn", alert.service, "alert-failed", `alert rule ${index + 1} (${alert.kind}) not delivered after ${tries}: ${delivery.detail}${also}`, {
      rule: index + 1,
      kind: alert.kind,
      attempts: delivery.attempts,
    });
  }

  private drop(count: number, why: string): void {
    this.totals.dropped += count;
    const now = this.opts.clock.now();
    this.droppedSinceLog += count;
    if (!this.closed && now < this.dropQuietUntilMs) return;
    this.dropQuietUntilMs = now + (this.opts.failureLogMs ?? FAILURE_LOG_MS);
    this.opts.logger.log("warn", null, "alerts-dropped", `alerts dropped: ${this.droppedSinceLog} (${why})`, { dropped: this.droppedSinceLog });
    this.droppedSinceLog = 0;
  }
}

function realDelivery(rule: AlertRule, payload: AlertPayload, signal: AbortSignal, env: Env, onRetry: () => void): Promise<Delivery> {
  const opts = { timeoutMs: rule.timeoutMs, retries: rule.retries, retryBackoffMs: rule.retryBackoffMs, signal, env, onRetry };
  return rule.target.kind === "command" ? runAlertCommand(rule.target, payload, opts) : sendWebhook(rule.target, payload, opts);
}

function orderKey({ alert }: Job): string {
  return `${alert.rule}\u0000${alert.service ?? ""}`;
}
