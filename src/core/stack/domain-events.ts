// What happens to a stack, as typed events: the loop publishes them on one bus, and the journal, the
// alerts, the logger, status.json, metrics and the library's emitter subscribe. Each carries its figures
// in `fields` (typed per kind) and a sentence for people in `message`; nothing downstream parses text.
import type { ExitReason, FailureReason, Health, ServiceState } from "../types.js";
import { formatMs } from "../format.js";
import type { ActionKind, OverlapPolicy, TaskTimeoutAction } from "../../manifest/types.js";
import type { PingStatus } from "../ping.js";

export type Level = "debug" | "info" | "warn" | "error";

/** The figures of each kind of event. */
export interface EventFields {
  up: { readonly services: number; readonly instances: number; readonly file: string; readonly pid: number };
  shutdown: { readonly kill: boolean };
  /** every instance has stopped; the supervisor closes and exits */
  down: Record<string, never>;
  /** the instance's state changed (every change; the others tell why) */
  state: { readonly state: ServiceState; readonly previous: ServiceState; readonly pid: number | null };
  spawned: { readonly pid: number; readonly incarnation: number };
  exit: { readonly code: number | null; readonly signal: string | null; readonly reason: ExitReason; readonly pid: number | null };
  "spawn-failed": { readonly error: string };
  "restart-scheduled": { readonly delayMs: number; readonly reason: ExitReason; readonly attempt: number };
  fatal: { readonly restarts: number; readonly windowMs: number; readonly maxRestarts: number };
  /** observe: not restarted for it (actions then: none, or an adopted process with no command) */
  /** `restarts: false`: the policy is never, so the child is stopped and left */
  failure: { readonly reason: FailureReason; readonly detail: string; readonly observe?: boolean; readonly restarts?: boolean };
  /** a `ping:` check's state changed, or a ping came */
  ping: {
    readonly state: PingStatus;
    readonly previous: PingStatus;
    /** what came: a ping (success, start, fail, exit), or the time passing (late, down) */
    readonly signal: "success" | "start" | "fail" | "exit" | "late" | "down";
    readonly exitCode: number | null;
    readonly durationMs: number | null;
  };
  /** an `actions:` command started or ended */
  action: {
    readonly action: ActionKind;
    readonly outcome: "started" | "done" | "failed";
    readonly command: string;
    readonly then: "restart" | "none";
    readonly exitCode: number | null;
    readonly detail: string;
  };
  /** a process without a service beat for the first time, or has not beaten for expire_after */
  unmanaged: { readonly name: string; readonly outcome: "seen" | "expired"; readonly ageMs: number };
  /** checks.cpu or checks.memory crossed a threshold, or came back under warn */
  "host-check": {
    readonly check: "cpu" | "memory";
    readonly level: "ok" | "warn" | "critical";
    readonly kind: "warn" | "critical" | "recovered";
    readonly usedPercent: number;
    readonly thresholdPercent: number;
  };
  /** an adopted process was found (or not) */
  adopt: { readonly outcome: "adopted" | "not-found" | "released"; readonly pid: number | null; readonly detail: string };
  "stop-timeout": { readonly timeoutMs: number };
  "start-abandoned": { readonly detail: string };
  health: { readonly health: Health; readonly previous: Health };
  readiness: { readonly status: "passing" | "failing" };
  "limit-breach": {
    readonly kind: "memory" | "cpu";
    readonly reason: "memory" | "cpu";
    readonly measured: number;
    readonly limit: number;
    readonly text: string;
  };
  disk: {
    readonly level: "ok" | "warn" | "critical";
    readonly kind: "warn" | "critical" | "recovered";
    readonly path: string;
    readonly usedPercent: number;
    readonly thresholdPercent: number;
  };
  "config-applied": { readonly generation: number; readonly changes: readonly string[] };
  "config-rejected": { readonly error: string; readonly missing?: boolean };
  "message-rejected": { readonly kind: string; readonly detail: string; readonly folded: number };
  "job-leftovers": { readonly pids: readonly number[]; readonly text: string; readonly daemon: boolean };
  "job-escaped": { readonly pid: number; readonly command: string };
  "job-stuck": { readonly text: string };
  scaled: { readonly from: number; readonly to: number };
  /** a start-first restart: a new child started beside the old one, was kept (done) or given up (failed) */
  rollover: {
    readonly outcome: "started" | "done" | "failed";
    readonly reason: ExitReason;
    readonly detail: string;
    /** the new child's pid, once it has one */
    readonly pid: number | null;
    readonly oldPid: number | null;
  };
  removed: Record<string, never>;
  /** files under `watch.paths` changed: the service restarts (one restart for a burst of `changes`) */
  "watch-restart": { readonly path: string; readonly changes: number };
  /** more watch restarts than max_restarts within the window: a loop; watching is paused */
  "watch-paused": { readonly restarts: number; readonly windowMs: number; readonly path: string };
  "watch-resumed": { readonly why: "restart" | "reload" };
  /** a schedule tick found a run still going and started nothing (overlap skip, or queue with one waiting) */
  "schedule-skipped": { readonly overlap: OverlapPolicy; readonly skipped: number; readonly state: ServiceState };
  /** a schedule tick found a run still going: one more run follows it (queue), or it is stopped for a new one (replace) */
  "schedule-overlap": { readonly overlap: OverlapPolicy; readonly state: ServiceState };
  /** an open task had no start or progress for stale_after: once per task */
  "task-stale": { readonly task: string; readonly name: string | null; readonly idleForMs: number; readonly runningForMs: number; readonly staleAfterMs: number };
  /** an open task ran past its timeout: once per task; restart follows with on_timeout restart */
  "task-timeout": { readonly task: string; readonly name: string | null; readonly runningForMs: number; readonly timeoutMs: number; readonly onTimeout: TaskTimeoutAction };
}

export type EventKind = keyof EventFields;

export type DomainEvent = {
  readonly [K in EventKind]: {
    readonly kind: K;
    /** ISO wall-clock time */
    readonly at: string;
    /** null for the supervisor itself */
    readonly service: string | null;
    /** the instance's name (web, or web.1 of a replicated service); null for the supervisor */
    readonly instance: string | null;
    readonly level: Level;
    readonly message: string;
    readonly fields: EventFields[K];
  };
}[EventKind];

export interface Subject {
  readonly service: string | null;
  readonly instance: string | null;
}

export const SUPERVISOR: Subject = { service: null, instance: null };

/** An event of `kind` about `subject` at wall-clock `wallMs`, with its level and message. */
export function domainEvent<K extends EventKind>(kind: K, subject: Subject, fields: EventFields[K], wallMs: number): DomainEvent {
  const { level, message } = describe(kind, fields);
  return { kind, at: new Date(wallMs).toISOString(), service: subject.service, instance: subject.instance, level, message, fields } as DomainEvent;
}

type Description = { readonly level: Level; readonly message: string };

const DESCRIBE: { readonly [K in EventKind]: (f: EventFields[K]) => Description } = {
  up: (f) => info(`supervising ${f.services} services from ${f.file} (pid ${f.pid})`),
  shutdown: (f) => (f.kill ? warn("killing every service now") : info("stopping all services")),
  down: () => info("all services stopped"),
  state: (f) => ({ level: "debug", message: `state ${f.previous} -> ${f.state}` }),
  spawned: (f) => info(`started (pid ${f.pid})`),
  exit: (f) => {
    const how = f.signal ? `killed by ${f.signal}` : `exited with code ${f.code}`;
    if (f.reason === "exit") return { level: f.code !== 0 ? "warn" : "info", message: how };
    return info(`stopped, ${how} (reason ${f.reason})`);
  },
  "spawn-failed": (f) => error(`cannot start: ${f.error}`),
  "restart-scheduled": (f) => info(`restarting in ${formatMs(f.delayMs)} (reason ${f.reason})`),
  fatal: (f) =>
    error(`crash loop: ${f.restarts} restarts within ${formatMs(f.windowMs)} (max_restarts ${f.maxRestarts}); giving up, state fatal`),
  failure: (f) => warn(`${f.reason}: ${f.detail}; ${f.observe === true ? "observing only, not restarting" : f.restarts === false ? "stopping it (restart policy never)" : "restarting"}`),
  ping: (f) => {
    if (f.signal === "late") return warn("ping late: none came by its time");
    if (f.signal === "down") return error("ping missing past its grace: down");
    if (f.signal === "start") return info("ping: started");
    const took = f.durationMs === null ? "" : ` after ${formatMs(f.durationMs)}`;
    if (f.state === "down") return error(`ping: failed${f.exitCode === null ? "" : ` with exit status ${f.exitCode}`}${took}`);
    return { level: f.previous === "up" ? "debug" : "info", message: `ping: ok${took}${f.previous === "up" ? "" : ` (was ${f.previous})`}` };
  },
  action: (f) => {
    if (f.outcome === "started") return info(`actions.${f.action}: running ${f.command} (then ${f.then}): ${f.detail}`);
    if (f.outcome === "done") return info(`actions.${f.action}: ${f.command} done`);
    return warn(`actions.${f.action}: ${f.command} failed: ${f.detail}`);
  },
  unmanaged: (f) => (f.outcome === "seen" ? info(`beats from ${f.name} (no service)`) : info(`no beat from ${f.name} (no service) for ${formatMs(f.ageMs)}; dropped`)),
  "host-check": (f) => {
    const where = `host ${f.check} at ${f.usedPercent.toFixed(1)}%`;
    if (f.kind === "recovered") return info(`${where}, back under ${f.thresholdPercent}%`);
    return { level: f.kind === "critical" ? "error" : "warn", message: `${f.check} ${f.kind}: ${where} (threshold ${f.thresholdPercent}%)` };
  },
  adopt: (f) => {
    if (f.outcome === "adopted") return info(`watching pid ${f.pid ?? "?"} (${f.detail})`);
    if (f.outcome === "released") return info(`left pid ${f.pid ?? "?"} running (adopt.on_stop: release)`);
    return warn(`no process to watch: ${f.detail}`);
  },
  "stop-timeout": (f) => warn(`did not stop within ${formatMs(f.timeoutMs)}; killing its process tree`),
  "start-abandoned": (f) => error(`not started: ${f.detail}`),
  health: (f) => ({
    level: f.health === "critical" || f.health === "failed" ? "warn" : "info",
    message: `health ${f.previous} -> ${f.health}`,
  }),
  readiness: (f) => ({ level: f.status === "passing" ? "info" : "warn", message: `readiness probe ${f.status}` }),
  "limit-breach": (f) => warn(f.text),
  disk: (f) => {
    const where = `${f.path} is ${f.usedPercent.toFixed(1)}% full`;
    if (f.kind === "recovered") return info(`disk back under ${f.thresholdPercent}%: ${where}`);
    return { level: f.kind === "critical" ? "error" : "warn", message: `disk ${f.kind}: ${where} (threshold ${f.thresholdPercent}%)` };
  },
  "watch-restart": (f) => info(`${f.path} changed${f.changes > 1 ? ` (and ${f.changes - 1} more changes)` : ""}; restarting (reason watch)`),
  "watch-paused": (f) =>
    warn(`restart loop on file change: ${f.restarts} watch restarts within ${formatMs(f.windowMs)} and ${f.path} changed again; watching paused until a manual restart or reload`),
  "watch-resumed": (f) => info(`watching files again after a ${f.why}`),
  "schedule-skipped": (f) => info(`scheduled run skipped: the last run is still ${f.state} (overlap ${f.overlap}; ${f.skipped} skipped so far)`),
  "schedule-overlap": (f) =>
    info(f.overlap === "replace" ? `scheduled run replaces the one still ${f.state}: stopping it` : `scheduled run queued until the one still ${f.state} ends`),
  "task-stale": (f) => warn(`task ${taskLabel(f.task, f.name)} is stale: no progress for ${formatMs(f.idleForMs)} (stale_after ${formatMs(f.staleAfterMs)}), running for ${formatMs(f.runningForMs)}`),
  "task-timeout": (f) =>
    error(`task ${taskLabel(f.task, f.name)} timed out: running for ${formatMs(f.runningForMs)} (timeout ${formatMs(f.timeoutMs)})${f.onTimeout === "restart" ? "; restarting" : ""}`),
  "config-applied": (f) => info(`generation ${f.generation}: ${f.changes.length === 0 ? "no changes" : f.changes.join("; ")}`),
  "config-rejected": (f) =>
    f.missing === true
      ? warn(`the manifest is gone; the running configuration stays until it is back:\n${f.error}`)
      : error(`manifest not applied, the running configuration stays:\n${f.error}`),
  "message-rejected": (f) => warn(`rejected heartbeat input: ${f.detail}${f.folded > 0 ? ` (and ${f.folded} more in the last 5s)` : ""}`),
  "job-leftovers": (f) => warn(f.text),
  "job-escaped": (f) =>
    warn(`pid ${f.pid} (${f.command}) escaped its job and outlived it; killed it. A daemon must run in the foreground to be supervised`),
  "job-stuck": (f) => error(f.text),
  rollover: (f) => {
    const old = f.oldPid === null ? "the old child" : `the old child (pid ${f.oldPid})`;
    if (f.outcome === "started") return info(`starting a new child beside ${old} (reason ${f.reason})`);
    if (f.outcome === "done") return info(`the new child (pid ${f.pid ?? "?"}) is ready; stopping ${old}`);
    return error(`the new child was not kept: ${f.detail}; ${old} keeps serving`);
  },
  scaled: (f) => info(`scaled from ${f.from} to ${f.to} ${f.to === 1 ? "instance" : "instances"}`),
  removed: () => info("removed"),
};

function taskLabel(id: string, name: string | null): string {
  return name === null ? JSON.stringify(id) : `${JSON.stringify(id)} (${name})`;
}

function describe<K extends EventKind>(kind: K, fields: EventFields[K]): Description {
  return (DESCRIBE[kind] as (f: EventFields[K]) => Description)(fields);
}

const info = (message: string): Description => ({ level: "info", message });
const warn = (message: string): Description => ({ level: "warn", message });
const error = (message: string): Description => ({ level: "error", message });

/** Kinds about the supervisor's own plumbing, logged but kept out of the journal and alerts. */
export const NOT_JOURNALED: ReadonlySet<EventKind> = new Set(["message-rejected", "state"]);
