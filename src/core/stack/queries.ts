// Questions about what children said, answered from the state: the kept beats of a window with their
// figures (`vigil beats`, GET /api/services/NAME/beats) and the open tasks (GET /api/services/NAME/tasks).
import type { TasksDoc } from "../../control/status-document.js";
import { beatStats, type BeatStats } from "../beat-stats.js";
import { tasksDoc, type TimeText } from "./status.js";
import { configOf, nameOf, type Instance, type StackState } from "./state.js";

export interface BeatsDoc {
  readonly name: string;
  readonly service: string;
  readonly instance: number;
  /** the heartbeat interval, null without `heartbeat:` */
  readonly interval_ms: number | null;
  /** beats kept per instance (`heartbeat.history`), across its children */
  readonly history: number;
  /** the window asked for, as ISO times (null: open) */
  readonly since: string | null;
  readonly until: string | null;
  /** oldest first */
  readonly beats: readonly { readonly at: string; readonly data: unknown }[];
  readonly stats: BeatStats;
}

export function beatsDoc(state: StackState, instance: Instance, sinceWallMs: number | null, untilWallMs: number | null): BeatsDoc {
  const hb = configOf(state, instance).heartbeat;
  const records = instance.messages.ring.between(sinceWallMs ?? -Infinity, untilWallMs ?? Infinity);
  return {
    name: nameOf(state, instance),
    service: instance.service,
    instance: instance.index,
    interval_ms: hb?.intervalMs ?? null,
    history: instance.messages.ring.size,
    since: sinceWallMs === null ? null : iso(sinceWallMs),
    until: untilWallMs === null ? null : iso(untilWallMs),
    beats: records.map((r) => ({ at: iso(r.wallMs), data: r.data ?? null })),
    stats: beatStats(records.map((r) => r.atMs), hb?.intervalMs ?? null, instance.messages.childStarts),
  };
}

export interface InstanceTasksDoc {
  readonly name: string;
  readonly service: string;
  readonly instance: number;
  readonly pid: number | null;
  readonly tasks: TasksDoc;
}

/** Every open task of the instance (the status document lists the oldest few). */
export function instanceTasksDoc(state: StackState, instance: Instance, nowMs: number, wallMs: number): InstanceTasksDoc {
  const time: TimeText = { ofMonotonic: (ms) => (ms === null ? null : iso(wallMs - (nowMs - ms))), ofWall: iso };
  const doc = tasksDoc(instance, true, nowMs, time);
  if (doc === null) throw new Error("bug: tasksDoc of a configured service is null");
  return { name: nameOf(state, instance), service: instance.service, instance: instance.index, pid: instance.status.pid, tasks: doc };
}

function iso(wallMs: number): string {
  return new Date(wallMs).toISOString();
}
