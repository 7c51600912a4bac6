// The state of a supervised stack: one record per instance, the manifest it runs, and what the stack as a
// whole is doing. Only step() changes it, and only the loop calls step(); everything else reads it.
import type { Manifest, ServiceConfig } from "../../manifest/types.js";
import { BeatRing } from "../beat-ring.js";
import { newTaskBook, type TaskBook } from "../task-book.js";
import type { BeatWatch } from "../beat-watch.js";
import { LogThrottle } from "../log-throttle.js";
import { INITIAL_PROBE_STATE, type ProbeState } from "../probe-tracker.js";
import { NO_OVER_RUN, type LimitState } from "../limits.js";
import { initialStatus, type ServiceStatus } from "../service-state.js";
import type { ExitReason } from "../types.js";
import type { DiskLevel } from "../disk-level.js";
import { instanceId, instanceName, type InstanceId } from "./ids.js";
import type { HostSample, InstanceSample, ReplyTo } from "./inputs.js";
import { startOrder } from "../start-order.js";
import type { AwaitedCommand } from "./awaited.js";
import { newWatchState, type WatchState } from "./watch.js";
import { newScheduleState, type ScheduleState } from "./schedule.js";
import type { PingEntry } from "./pings.js";
import type { ActionBook, ActionRun } from "./actions.js";
import { newUnmanagedBook, type UnmanagedBook } from "./unmanaged.js";

/** beats kept per instance for history queries */
export const BEAT_HISTORY = 100;

/** What the children of an instance have said, since its current child was spawned. */
export interface Messages {
  beats: number;
  lastBeatWallMs: number | null;
  lastBeatData: unknown;
  ready: boolean;
  statusText: string | null;
  /** the last beats (times and data), of this child and the ones before it while the size stays */
  readonly ring: BeatRing;
  /** when the children whose beats the ring may hold were spawned (monotonic), oldest first */
  readonly childStarts: number[];
}

/** spawn times kept for the beat history: a ring of at most 1,000 beats spans no more children that beat */
const CHILD_STARTS_KEPT = 1_000;

export interface ProbeSlot {
  state: ProbeState;
}

export interface Instance {
  readonly id: InstanceId;
  readonly service: string;
  readonly index: number;
  /** the state machine's value, replaced (never changed) by each transition */
  status: ServiceStatus;
  /** the VIGIL_TOKEN of the current child; null while there is none */
  token: string | null;
  messages: Messages;
  /** heartbeat deadlines of the current child, where the service asks for heartbeats */
  heartbeat: BeatWatch | null;
  /** the tasks the current child has in hand, and counts since the instance began (tasks.ts) */
  readonly tasks: TaskBook;
  /** output staleness of the current child, where logs.stale_after is set: a line is a beat */
  output: BeatWatch | null;
  probes: { liveness: ProbeSlot | null; readiness: ProbeSlot | null };
  limits: LimitState;
  /** the last resource sample of the current child */
  sample: InstanceSample | null;
  /** restarts by the reason the child before ended */
  readonly restartsByReason: Partial<Record<ExitReason, number>>;
  /** removed from the manifest or scaled away: dropped once its child is gone */
  removing: boolean;
  /** 0 for the first child of the slot; each start-first replacement counts one more (rollover.ts) */
  readonly lineage: number;
  /** current: the slot's instance; new: started in its place, not ready yet; old: replaced, being stopped */
  role: InstanceRole;
  /** a new instance: the one it replaces once ready, and why that one restarts */
  replacing: { readonly id: InstanceId; readonly reason: ExitReason } | null;
  /** the new instance starting in this one's place */
  successor: InstanceId | null;
  /** the one this instance replaced, while it is being stopped */
  predecessor: InstanceId | null;
  /** why the last start-first replacement was not kept (the new child exited or was not ready); null after one that was */
  rolloverError: string | null;
  /** how many start-first replacements were given up: a restart's answer waits for one more, whatever its text */
  rolloverFailures: number;
}

export type InstanceRole = "current" | "new" | "old";

export interface ServiceEntry {
  config: ServiceConfig;
  /** the instance count asked for: the manifest's, or `vigil scale`'s until the manifest's changes */
  replicas: number;
  /** instance ids by index; a hole where a removed instance was, until those above it are gone too */
  readonly instances: (InstanceId | undefined)[];
  /** refused messages that named this service (wrong token, malformed over IPC) */
  rejected: number;
  /** restarts on file change (`watch:`): the burst being folded, the loop count, paused or not */
  watch: WatchState;
  /** `schedule:` the next tick, runs, skipped ticks, queued runs, the last run */
  readonly schedule: ScheduleState;
  /** start-first restarts waiting their turn: replicas roll one at a time */
  readonly rollQueue: { readonly id: InstanceId; readonly reason: ExitReason }[];
}

export interface StackState {
  manifest: Manifest;
  generation: number;
  configError: string | null;
  /** the last rejected edit, published once */
  lastRejected: string | null;
  startedAtWallMs: number;
  /** services in start order (dependencies first) */
  order: string[];
  readonly services: Map<string, ServiceEntry>;
  readonly instances: Map<InstanceId, Instance>;
  /** token of a live child → its instance */
  readonly tokens: Map<string, InstanceId>;
  /** instances queued that wait for their dependencies */
  readonly waiting: Set<InstanceId>;
  /** new instances of start-first restarts, until they are kept or given up (rollover.ts) */
  readonly rollovers: Set<InstanceId>;
  /** the Started input has come: the stack is under way */
  began: boolean;
  /** READY=1 has been announced (announce.ts) */
  readyAnnounced: boolean;
  shuttingDown: boolean;
  /** services asked to stop during the shutdown */
  readonly stopAsked: Set<string>;
  /** the stop order, made when the shutdown begins */
  stopPlan: readonly { readonly name: string; readonly dependants: readonly string[] }[] | null;
  /** `vigil down` requests answered once everything has stopped */
  readonly downReplies: ReplyTo[];
  /** `vigil stop` and `restart` requests answered once done (awaited.ts) */
  readonly awaited: AwaitedCommand[];
  /** `vigil up -d` waiting until every instance has started or failed to (announce.ts) */
  readonly startedReplies: ReplyTo[];
  stopped: boolean;
  rejectedTotal: number;
  readonly rejectLog: LogThrottle<string>;
  host: HostSample | null;
  diskLevel: DiskLevel;
  /** `ping:` checks by name (pings.ts) */
  readonly pings: Map<string, PingEntry>;
  /** `actions:` episodes per instance, and the commands running (actions.ts) */
  readonly actions: Map<InstanceId, ActionBook>;
  readonly actionRuns: Map<number, ActionRun>;
  actionSeq: number;
  /** beats of processes without a service (unmanaged.ts) */
  readonly unmanaged: UnmanagedBook;
  /** checks.cpu and checks.memory levels, once measured (host-checks.ts) */
  readonly hostLevels: { cpu?: DiskLevel; memory?: DiskLevel };
}

/**
 * What a new child has said: nothing yet. The beat history goes on from the child before (`previous`)
 * unless its size changed; `spawnedAtMs` marks where the new child's beats begin.
 */
export function newMessages(history = BEAT_HISTORY, previous?: Messages, spawnedAtMs?: number): Messages {
  const keep = previous !== undefined && previous.ring.size === history;
  const childStarts = keep ? previous.childStarts : [];
  if (spawnedAtMs !== undefined) {
    childStarts.push(spawnedAtMs);
    if (childStarts.length > CHILD_STARTS_KEPT) childStarts.shift();
  }
  const ring = keep ? previous.ring : new BeatRing(history);
  return { beats: 0, lastBeatWallMs: null, lastBeatData: null, ready: false, statusText: null, ring, childStarts };
}

export function newInstance(service: string, index: number, lineage = 0): Instance {
  return {
    id: lineage === 0 ? instanceId(service, index) : `${instanceId(service, index)}+${lineage}`,
    service,
    index,
    status: initialStatus,
    token: null,
    messages: newMessages(),
    heartbeat: null,
    tasks: newTaskBook(),
    output: null,
    probes: { liveness: null, readiness: null },
    limits: NO_OVER_RUN,
    sample: null,
    restartsByReason: {},
    removing: false,
    lineage,
    role: "current",
    replacing: null,
    successor: null,
    predecessor: null,
    rolloverError: null,
    rolloverFailures: 0,
  };
}

export function newProbeSlot(): ProbeSlot {
  return { state: INITIAL_PROBE_STATE };
}

/** The state of a stack that has not started: every instance of every service, stopped. */
export function initialState(manifest: Manifest, startedAtWallMs: number): StackState {
  const state: StackState = {
    manifest,
    generation: 1,
    configError: null,
    lastRejected: null,
    startedAtWallMs,
    order: startOrder(manifest.services),
    services: new Map(),
    instances: new Map(),
    tokens: new Map(),
    waiting: new Set(),
    rollovers: new Set(),
    began: false,
    readyAnnounced: false,
    shuttingDown: false,
    stopAsked: new Set(),
    stopPlan: null,
    downReplies: [],
    awaited: [],
    startedReplies: [],
    stopped: false,
    rejectedTotal: 0,
    rejectLog: new LogThrottle(REJECT_QUIET_MS),
    host: null,
    diskLevel: "ok",
    pings: new Map(),
    actions: new Map(),
    actionRuns: new Map(),
    actionSeq: 0,
    unmanaged: newUnmanagedBook(),
    hostLevels: {},
  };
  for (const config of manifest.services) addService(state, config);
  return state;
}

/** rejected input of one kind is logged at most once per this long, with a count of the rest */
export const REJECT_QUIET_MS = 5_000;

export function addService(state: StackState, config: ServiceConfig): ServiceEntry {
  const entry: ServiceEntry = { config, replicas: config.replicas, instances: [], rejected: 0, rollQueue: [], watch: newWatchState(), schedule: newScheduleState() };
  state.services.set(config.name, entry);
  for (let index = 0; index < entry.replicas; index++) addInstance(state, entry, index);
  return entry;
}

export function addInstance(state: StackState, entry: ServiceEntry, index: number): Instance {
  const instance = newInstance(entry.config.name, index);
  entry.instances[index] = instance.id;
  state.instances.set(instance.id, instance);
  return instance;
}

export function configOf(state: StackState, instance: Instance): ServiceConfig {
  const entry = state.services.get(instance.service);
  if (!entry) throw new Error(`bug: instance ${instance.id} of unknown service ${instance.service}`);
  return entry.config;
}

/** The name people see: `web`, or `web.1` of a replicated service. */
export function nameOf(state: StackState, instance: Instance): string {
  return instanceName(instance.service, instance.index, state.services.get(instance.service)?.instances.length ?? 1);
}

/** The instances of a service, by index. */
export function instancesOf(state: StackState, entry: ServiceEntry): Instance[] {
  const found: Instance[] = [];
  for (const id of entry.instances) {
    const instance = id === undefined ? undefined : state.instances.get(id);
    if (instance) found.push(instance);
  }
  return found;
}

/** The instances of `ids` as status shows them: each, then the one starting in its place, then the one it replaced. */
export function withRollovers(state: StackState, ids: readonly InstanceId[]): InstanceId[] {
  if (state.rollovers.size === 0 && ![...state.instances.values()].some((i) => i.role === "old")) return [...ids];
  const shown: InstanceId[] = [];
  for (const id of ids) {
    const instance = state.instances.get(id);
    // the current one first: a reader that looks a name up finds it
    shown.push(id);
    if (instance?.successor && state.instances.has(instance.successor)) shown.push(instance.successor);
    if (instance?.predecessor && state.instances.has(instance.predecessor)) shown.push(instance.predecessor);
  }
  return shown;
}

/** Every instance of the stack, services in manifest order, instances by index. */
export function* instancesInOrder(state: StackState): Generator<Instance> {
  for (const entry of state.services.values()) yield* instancesOf(state, entry);
}
