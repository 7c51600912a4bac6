// Which events become alerts, for which rule, and how often: classification, rule matching and the
// cooldown that folds repeats into one later message. Time is passed in; the runtime arms one timer.
import type { AlertKind, AlertRule } from "../manifest/types.js";

/** The shape of a journal event that the policy reads (runtime/events/event.ts VigilEvent fits). */
export interface EventRecord {
  readonly at: string;
  readonly service: string | null;
  readonly kind: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export type PolicyRule = Pick<AlertRule, "on" | "services" | "cooldownMs">;

export interface Alert {
  /** index of the rule in the manifest */
  readonly rule: number;
  readonly kind: AlertKind;
  readonly service: string | null;
  readonly reason: string | null;
  /** the event reported; for a flushed fold, the latest of the folded ones */
  readonly event: EventRecord;
  /** further events of this kind for this service since the last message: "and N more" */
  readonly folded: number;
}

export interface AlertDecision {
  readonly alerts: readonly Alert[];
  /** when flush() has folded alerts to send (monotonic ms), or null: the one timer to arm */
  readonly flushAtMs: number | null;
}

export interface Classified {
  readonly kind: AlertKind;
  readonly reason: string | null;
}

/** Kinds that make a later `recovered` worth sending. */
export const TROUBLE_KINDS: ReadonlySet<AlertKind> = new Set(["failed", "degraded", "critical", "fatal", "disk"]);

/** A heartbeat failure is logged twice (the restart decision and the health change): one incident. */
const SAME_FAILURE_MS = 1_000;

const text = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

/** The alert kind of an event by itself; `recovered` depends on history and is decided by AlertPolicy. */
export function classify(event: EventRecord): Classified | null {
  const f = event.fields;
  switch (event.kind) {
    case "failure":
      return { kind: "failed", reason: text(f["reason"]) };
    case "health": {
      const health = f["health"];
      if (health === "failed" || health === "degraded" || health === "critical") {
        return { kind: health, reason: `health ${String(f["previous"] ?? "unknown")} -> ${health}` };
      }
      return null;
    }
    case "fatal":
      return { kind: "fatal", reason: "crash-loop" };
    case "start-abandoned":
      return { kind: "fatal", reason: "dependency" };
    case "restart-scheduled":
      return { kind: "restart", reason: text(f["reason"]) };
    case "spawn-failed":
      return { kind: "spawn-failed", reason: text(f["error"]) };
    case "rollover":
      return f["outcome"] === "failed" ? { kind: "rollover-failed", reason: text(f["detail"]) } : null;
    case "config-rejected":
      return { kind: "config-rejected", reason: null };
    case "limit-breach":
      return { kind: "limit", reason: text(f["kind"]) ?? text(f["limit"]) ?? text(f["reason"]) };
    case "task-stale":
    case "task-timeout":
      return { kind: event.kind, reason: text(f["task"]) };
    case "disk":
      return isDiskRecovery(event) ? null : { kind: "disk", reason: text(f["level"]) ?? text(f["kind"]) };
    default:
      return null;
  }
}

function isDiskRecovery(event: EventRecord): boolean {
  return event.kind === "disk" && (event.fields["kind"] === "recovered" || event.fields["level"] === "ok");
}

export function ruleMatches(rule: PolicyRule, kind: AlertKind, service: string | null): boolean {
  if (!rule.on.includes(kind)) return false;
  return rule.services === null || (service !== null && rule.services.includes(service));
}

interface Fold {
  lastSentAtMs: number;
  count: number;
  latest: { readonly event: EventRecord; readonly reason: string | null } | null;
}

/**
 * Per (rule, service, kind): the first event is sent at once; repeats inside the cooldown are counted;
 * the next message (a new event after the cooldown, or flush() at its end) carries the count. Nothing
 * is lost and at most one message per cooldown leaves for a key.
 */
export class AlertPolicy {
  private readonly folds = new Map<string, Fold>();
  /** services (or "" for the host) with trouble since their last recovery */
  private readonly troubled = new Set<string>();
  private readonly fatal = new Set<string>();
  /** rule/service pairs that alerted trouble and are owed a recovered */
  private readonly owed = new Set<string>();
  private readonly lastFailed = new Map<string, { readonly atMs: number; readonly source: string }>();

  constructor(private readonly rules: readonly PolicyRule[]) {}

  /** An event happened at nowMs: the alerts to send now. */
  offer(event: EventRecord, nowMs: number): AlertDecision {
    const subject = event.service ?? "";
    const classified = this.recovery(event, subject) ?? this.trouble(event, subject, nowMs);
    const alerts: Alert[] = [];
    if (classified) {
      const { kind, reason } = classified;
      this.rules.forEach((rule, index) => {
        if (!ruleMatches(rule, kind, event.service)) return;
        const pair = `${index}\0${subject}`;
        if (kind === "recovered") {
          const owed = this.owed.delete(pair);
          if (!owed && rule.on.some((k) => TROUBLE_KINDS.has(k))) return;
        } else if (TROUBLE_KINDS.has(kind)) {
          this.owed.add(pair);
        }
        const alert = this.admit(index, rule, kind, event, reason, nowMs);
        if (!alert) return;
        // what this rule folded for the same service goes first: a "restart (and 3 more)" after its
        // "fatal" would tell the story backwards
        alerts.push(...this.sendFolded(index, event.service, kind, nowMs), alert);
      });
      if (kind === "recovered") for (const pair of [...this.owed]) if (pair.endsWith(`\0${subject}`)) this.owed.delete(pair);
    }
    return { alerts, flushAtMs: this.nextFlushAtMs() };
  }

  /** Sends the folds whose cooldown is over (all of them with `everything`, e.g. at shutdown). */
  flush(nowMs: number, everything = false): AlertDecision {
    const alerts: Alert[] = [];
    for (const [key, fold] of this.folds) {
      const rule = this.rules[ruleIndex(key)];
      if (!rule) continue;
      const due = nowMs >= fold.lastSentAtMs + rule.cooldownMs;
      if (fold.count > 0 && fold.latest && (due || everything)) {
        const [, service = "", kind] = key.split("\0");
        const { event, reason } = fold.latest;
        alerts.push({ rule: ruleIndex(key), kind: kind as AlertKind, service: service === "" ? null : service, reason, event, folded: fold.count - 1 });
        Object.assign(fold, { lastSentAtMs: nowMs, count: 0, latest: null });
      } else if (fold.count === 0 && due) {
        this.folds.delete(key);
      }
    }
    return { alerts, flushAtMs: this.nextFlushAtMs() };
  }

  /** The folds of one rule and service, other than `except`, sent now. */
  private sendFolded(index: number, service: string | null, except: AlertKind, nowMs: number): Alert[] {
    const prefix = `${index}\0${service ?? ""}\0`;
    const alerts: Alert[] = [];
    for (const [key, fold] of this.folds) {
      if (!key.startsWith(prefix) || fold.count === 0 || !fold.latest) continue;
      const kind = key.slice(prefix.length) as AlertKind;
      if (kind === except) continue;
      const { event, reason } = fold.latest;
      alerts.push({ rule: index, kind, service, reason, event, folded: fold.count - 1 });
      Object.assign(fold, { lastSentAtMs: nowMs, count: 0, latest: null });
    }
    return alerts;
  }

  /** events folded and not yet sent */
  pendingFolded(): number {
    let n = 0;
    for (const fold of this.folds.values()) n += fold.count;
    return n;
  }

  private recovery(event: EventRecord, subject: string): Classified | null {
    const healthy = event.kind === "health" && event.fields["health"] === "healthy";
    const runsAgain = event.kind === "spawned" && this.fatal.has(subject);
    if (event.kind === "spawned") this.fatal.delete(subject);
    if (!(healthy || runsAgain || isDiskRecovery(event)) || !this.troubled.delete(subject)) return null;
    return { kind: "recovered", reason: runsAgain ? "running again after fatal" : healthy ? "healthy" : null };
  }

  private trouble(event: EventRecord, subject: string, nowMs: number): Classified | null {
    const classified = classify(event);
    if (!classified) return null;
    if (TROUBLE_KINDS.has(classified.kind)) this.troubled.add(subject);
    if (classified.kind === "fatal") this.fatal.add(subject);
    if (classified.kind === "failed") {
      const last = this.lastFailed.get(subject);
      this.lastFailed.set(subject, { atMs: nowMs, source: event.kind });
      if (last && last.source !== event.kind && nowMs - last.atMs <= SAME_FAILURE_MS) return null;
    }
    return classified;
  }

  private admit(index: number, rule: PolicyRule, kind: AlertKind, event: EventRecord, reason: string | null, nowMs: number): Alert | null {
    const key = `${index}\0${event.service ?? ""}\0${kind}`;
    const fold = this.folds.get(key);
    if (fold && nowMs < fold.lastSentAtMs + rule.cooldownMs) {
      fold.count++;
      fold.latest = { event, reason };
      return null;
    }
    const folded = fold?.count ?? 0;
    this.folds.set(key, { lastSentAtMs: nowMs, count: 0, latest: null });
    return { rule: index, kind, service: event.service, reason, event, folded };
  }

  private nextFlushAtMs(): number | null {
    let next: number | null = null;
    for (const [key, fold] of this.folds) {
      const rule = this.rules[ruleIndex(key)];
      if (fold.count === 0 || !rule) continue;
      const at = fold.lastSentAtMs + rule.cooldownMs;
      if (next === null || at < next) next = at;
    }
    return next;
  }
}

const ruleIndex = (key: string): number => Number(key.slice(0, key.indexOf("\0")));

const MAX_MESSAGE_CHARS = 2_000;

/** For a person: `[host] api: restart — restarting in 400ms (reason exit) (and 14 more)`. */
export function alertText(alert: Alert, host: string): string {
  const who = alert.service ?? "vigil";
  const { message } = alert.event;
  const shown = message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message;
  const more = alert.folded > 0 ? ` (and ${alert.folded} more)` : "";
  return `[${host}] ${who}: ${alert.kind} — ${shown}${more}`;
}

/** What a webhook (json format) receives and a command reads on stdin. */
export interface AlertPayload {
  readonly service: string | null;
  /** the alert kind: failed, fatal, restart, … */
  readonly event: AlertKind;
  readonly reason: string | null;
  readonly message: string;
  /** the event's own figures: pid, code, delayMs, attempt, restarts, health, … */
  readonly figures: Readonly<Record<string, unknown>>;
  readonly host: string;
  /** ISO time of the event */
  readonly time: string;
  readonly folded: number;
  /** the journal's event kind behind it (restart-scheduled, health, …) */
  readonly source: string;
  readonly text: string;
}

export function alertPayload(alert: Alert, host: string): AlertPayload {
  return {
    service: alert.service,
    event: alert.kind,
    reason: alert.reason,
    message: alert.event.message,
    figures: alert.event.fields,
    host,
    time: alert.event.at,
    folded: alert.folded,
    source: alert.event.kind,
    text: alertText(alert, host),
  };
}
