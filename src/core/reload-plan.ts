// The manifest diff of a hot reload, as a value: computed whole before anything is applied.
//
// By service name (a renamed service is one removed and one added):
// - added      → started, each after its dependencies (start order of the new manifest);
// - removed    → stopped by the stop rules they run under, dependants first, and dropped from status;
// - restarted  → the spawn definition changed (command, shell, cwd, env key by key, env_file, and
//                whether the child has an IPC channel): stopped by its current stop rules, spawned anew
//                with reason `config`;
// - updated    → only supervision changed (restart, stop, heartbeat timing, logs, limits, probes,
//                depends_on): the new rules apply in place, the child keeps its PID;
// - scaled     → `replicas` changed: instances are added, or stopped from the highest index down; the
//                others keep running (and are restarted only if their definition changed too);
// - alerts     → the rules changed: delivery follows the new ones from now on;
// - unchanged  → untouched.
// `defaults` need no rule of their own: the services are compared resolved, so a changed default shows
// up in every service that inherits it and in none that overrides it.
//
// Dependants of a restarted service are NOT restarted (like `docker compose up` without
// --force-recreate): they were started once their dependency was ready and stay up while it restarts,
// exactly as when it restarts after a crash. A dependant that must follow it can watch it through a
// heartbeat or a probe. Likewise a running service whose depends_on now names a newly added service is
// only updated: it is already running, so it waits for nothing.
//
// The child reads VIGIL_HEARTBEAT_MS at spawn: an in-place change of heartbeat.interval reaches it at its
// next spawn, while the supervisor judges it by the new interval at once.
import { startOrder } from "./start-order.js";
import type { Manifest, ServiceConfig } from "../manifest/types.js";

export interface ServiceChange {
  readonly name: string;
  /** manifest keys, e.g. ["command", "env.PORT"]; env values never appear (they may hold secrets) */
  readonly changes: readonly string[];
}

export interface ReloadPlan {
  /** in the start order of the new manifest */
  readonly added: readonly string[];
  /** in the stop order of the current manifest: dependants first */
  readonly removed: readonly string[];
  /** in the start order of the new manifest */
  readonly restarted: readonly ServiceChange[];
  /** supervision only, applied in place; in the start order of the new manifest */
  readonly updated: readonly ServiceChange[];
  /** in the start order of the new manifest */
  readonly unchanged: readonly string[];
  /** `replicas` changed (with or without other changes): instances are added or stopped, the rest keep running */
  readonly scaled: readonly { readonly name: string; readonly from: number; readonly to: number }[];
  /** added and restarted together in the start order of the new manifest: what to spawn, and when */
  readonly spawnOrder: readonly string[];
  readonly stateDirChanged: boolean;
  readonly httpChanged: boolean;
  readonly resourcesChanged: boolean;
  readonly checksChanged: boolean;
  readonly alertsChanged: boolean;
}

type FieldRule = "spawn" | "supervision" | "special";

// Every field of ServiceConfig is classified here; a new field does not compile until it is.
const FIELD_RULES = {
  name: "special",
  command: "special",
  argv: "special",
  shell: "special",
  cwd: "spawn",
  env: "special",
  envFile: "spawn",
  dependsOn: "special",
  restart: "supervision",
  stop: "supervision",
  heartbeat: "special",
  tasks: "supervision",
  logs: "supervision",
  limits: "supervision",
  probes: "supervision",
  replicas: "special",
  sockets: "spawn",
  // whether the stack starts it: a running service stays up, a stopped one stays down
  disabled: "supervision",
  watch: "supervision",
  // when it runs: the runtime re-arms its timer from the new expression; a run in progress goes on
  schedule: "supervision",
  // how the process is found: a new way may find another process
  adopt: "spawn",
  actions: "supervision",
} as const satisfies Record<keyof ServiceConfig, FieldRule>;

export function planReload(current: Manifest, next: Manifest): ReloadPlan {
  const before = new Map(current.services.map((s) => [s.name, s]));
  const after = new Set(next.services.map((s) => s.name));
  const added: string[] = [];
  const restarted: ServiceChange[] = [];
  const updated: ServiceChange[] = [];
  const unchanged: string[] = [];
  const spawnOrder: string[] = [];
  const scaled: { name: string; from: number; to: number }[] = [];
  const byName = new Map(next.services.map((s) => [s.name, s]));
  for (const name of startOrder(next.services)) {
    const old = before.get(name);
    const now = byName.get(name);
    if (!now) throw new Error(`bug: start order named unknown service ${name}`);
    if (!old) {
      added.push(name);
      spawnOrder.push(name);
      continue;
    }
    if (old.replicas !== now.replicas) scaled.push({ name, from: old.replicas, to: now.replicas });
    const { spawn, supervision } = compareService(old, now);
    if (spawn.length > 0) {
      restarted.push({ name, changes: [...spawn, ...supervision] });
      spawnOrder.push(name);
    } else if (supervision.length > 0) {
      updated.push({ name, changes: supervision });
    } else if (old.replicas === now.replicas) {
      unchanged.push(name);
    }
  }
  const removed = startOrder(current.services).filter((name) => !after.has(name)).reverse();
  return {
    added,
    removed,
    restarted,
    updated,
    unchanged,
    scaled,
    spawnOrder,
    stateDirChanged: current.stateDir !== next.stateDir,
    httpChanged: !sameValue(current.http, next.http),
    resourcesChanged: !sameValue(current.resources, next.resources),
    checksChanged: !sameValue(current.checks, next.checks),
    alertsChanged: !sameValue(current.alerts, next.alerts),
  };
}

/** True when applying the plan would change nothing at all. */
export function planIsEmpty(plan: ReloadPlan): boolean {
  return (
    plan.added.length + plan.removed.length + plan.restarted.length + plan.updated.length + plan.scaled.length === 0 &&
    !plan.stateDirChanged && !plan.httpChanged && !plan.resourcesChanged && !plan.checksChanged && !plan.alertsChanged
  );
}

/** One log line per service that changes and per changed global section; nothing for an empty plan. */
export function describePlan(plan: ReloadPlan): string[] {
  const list = (changes: readonly string[]): string => changes.join(", ");
  return [
    ...plan.removed.map((name) => `${name}: stop (removed)`),
    ...plan.restarted.map((s) => `${s.name}: restart (${list(s.changes)})`),
    ...plan.updated.map((s) => `${s.name}: updated in place (${list(s.changes)})`),
    ...plan.scaled.map((s) => `${s.name}: scale ${s.from} -> ${s.to}`),
    ...plan.added.map((name) => `${name}: start (added)`),
    ...(plan.stateDirChanged ? ["state_dir: changed"] : []),
    ...(plan.httpChanged ? ["http: changed"] : []),
    ...(plan.resourcesChanged ? ["resources: changed"] : []),
    ...(plan.checksChanged ? ["checks: changed"] : []),
    ...(plan.alertsChanged ? ["alerts: changed"] : []),
  ];
}

function compareService(a: ServiceConfig, b: ServiceConfig): { spawn: string[]; supervision: string[] } {
  const spawn: string[] = [];
  const supervision: string[] = [];
  // a flipped shell changes argv by itself; "command" then means the text changed too
  if (a.shell !== b.shell) {
    spawn.push("shell");
    if (a.command !== b.command) spawn.push("command");
  } else if (!sameValue(a.argv, b.argv)) {
    spawn.push("command");
  } else if (a.command !== b.command) {
    supervision.push("command (same argv)");
  }
  for (const field of fieldsWhere("spawn")) diffInto(spawn, keyName(field), a[field], b[field]);
  spawn.push(...envChanges(a.env, b.env));
  heartbeatChanges(a, b, spawn, supervision);
  for (const name of unionKeys(a.dependsOn, b.dependsOn)) {
    if (a.dependsOn[name] !== b.dependsOn[name]) supervision.push(`depends_on.${name}`);
  }
  for (const field of fieldsWhere("supervision")) diffInto(supervision, keyName(field), a[field], b[field]);
  return { spawn, supervision };
}

function heartbeatChanges(a: ServiceConfig, b: ServiceConfig, spawn: string[], supervision: string[]): void {
  // the IPC channel exists only if the child was spawned with one; the socket is offered to every child
  const ipcChanged = (a.heartbeat?.via === "ipc") !== (b.heartbeat?.via === "ipc");
  if (!a.heartbeat || !b.heartbeat) {
    if (!sameValue(a.heartbeat, b.heartbeat)) (ipcChanged ? spawn : supervision).push("heartbeat");
    return;
  }
  if (ipcChanged) spawn.push("heartbeat.via");
  const { via: _viaA, ...timingA } = a.heartbeat;
  const { via: _viaB, ...timingB } = b.heartbeat;
  diffInto(supervision, "heartbeat", timingA, timingB);
}

function envChanges(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): string[] {
  return unionKeys(a, b)
    .filter((key) => a[key] !== b[key])
    .sort()
    .map((key) => `env.${key}`);
}

function fieldsWhere(rule: FieldRule): (keyof ServiceConfig)[] {
  return (Object.keys(FIELD_RULES) as (keyof ServiceConfig)[]).filter((field) => FIELD_RULES[field] === rule);
}

/** Pushes the manifest path of every leaf that differs; null ↔ object is one change of the whole. */
function diffInto(out: string[], path: string, a: unknown, b: unknown): void {
  if (sameValue(a, b)) return;
  if (!isObject(a) || !isObject(b)) {
    out.push(path);
    return;
  }
  for (const key of unionKeys(a, b)) {
    // a probe's check is one thing: named by its kind, as in the manifest (http, tcp, exec)
    if (key === "check" && isObject(b[key]) && typeof b[key]["kind"] === "string") {
      if (!sameValue(a[key], b[key])) out.push(`${path}.${b[key]["kind"]}`);
      continue;
    }
    diffInto(out, `${path}.${keyName(key)}`, a[key], b[key]);
  }
}

/** ServiceConfig field → manifest key: envFile → env_file, staleAfterMs → stale_after. */
function keyName(field: string): string {
  if (field === "maxBytes") return "max_size";
  return field.replace(/(?<=.)(Ms|Bytes|Percent)$/, "").replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function unionKeys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = unionKeys(a, b);
    return keys.every((key) => sameValue(a[key], b[key]));
  }
  return false;
}
