// The status document of SPEC §4: what `vigil status --json` prints and STATE_DIR/status.json holds.
import type { ExitReason, Health, ServiceState } from "../core/types.js";
import type { ProbeStatus } from "../core/probe-tracker.js";
import type { OverlapPolicy } from "../manifest/types.js";
import type { OutsideDocs } from "./outside-doc.js";

export interface ProbeDoc {
  readonly status: ProbeStatus;
  readonly last_detail: string | null;
  readonly consecutive_failures: number;
  readonly checks: number;
}

export interface LastExitDoc {
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason: ExitReason;
  readonly at: string;
  /** why the command could not be started, when it could not */
  readonly error?: string;
}

export interface ServiceDoc {
  /** the instance's name: the service's (`web`), or `web.1` of a replicated service */
  readonly name: string;
  readonly state: ServiceState;
  readonly health: Health;
  readonly pid: number | null;
  readonly restarts: number;
  readonly started_at: string | null;
  readonly last_beat_at: string | null;
  readonly beats: number;
  readonly last_beat_data: unknown;
  readonly cpu_percent: number | null;
  readonly memory_bytes: number | null;
  readonly last_exit: LastExitDoc | null;
  readonly next_restart_at: string | null;
  /** extensions */
  readonly command: string;
  /** dependencies this service still waits for before it is started */
  readonly waiting_for: readonly string[];
  /** the main process alone (cpu_percent and memory_bytes cover its whole process tree) */
  readonly own_cpu_percent: number | null;
  readonly own_memory_bytes: number | null;
  /** live processes in the tree */
  readonly processes: number | null;
  /** the last 60 samples, oldest first: in `vigil status --json` and /api/status, not in status.json */
  readonly history?: readonly ResourcePointDoc[];
  /** the probes of the running child, when it has any */
  readonly probes: { readonly liveness: ProbeDoc | null; readonly readiness: ProbeDoc | null } | null;
  /** messages refused for this service: wrong token, malformed */
  readonly rejected_messages: number;
  /** the last `status` message's text */
  readonly status_text: string | null;
  /** the service it is an instance of, and its index (SPEC §6.1) */
  readonly service: string;
  readonly instance: number;
  /**
   * current: the instance; new: a start-first restart's new child, not ready yet (it runs beside the
   * current one, with its own pid); old: the child it replaced, being stopped
   */
  readonly role?: "current" | "new" | "old";
  /** why the last start-first restart's new child was not kept; null once one was */
  readonly rollover_error?: string | null;
  /** `disabled: true` (or `autostart: false`) in the manifest: not started with the stack, only by `vigil start` */
  readonly disabled?: boolean;
  /** `schedule:` in the manifest: the service runs as a job; the figures are the service's, not the instance's */
  readonly schedule?: ScheduleDoc | null;
  /** the tasks the child reports (`{"type":"task"}`); null while it has reported none and `tasks:` is not set */
  readonly tasks?: TasksDoc | null;
}

/** One open task, as GET /api/services/NAME/tasks and the status document show it. */
export interface TaskDoc {
  readonly id: string;
  readonly name: string | null;
  readonly started_at: string;
  readonly running_for_ms: number;
  /** since its start or last progress */
  readonly idle_for_ms: number;
  /** the stale warning was given */
  readonly stale: boolean;
  readonly timed_out: boolean;
}

export interface TasksDoc {
  /** idle: no task open (with `heartbeat.when: busy` its silence is expected); busy: some are */
  readonly state: "idle" | "busy";
  readonly open: number;
  /** the oldest open tasks first; the status document lists at most TASKS_SHOWN, /tasks all */
  readonly in_flight: readonly TaskDoc[];
  readonly started: number;
  readonly ended: number;
  /** starts refused because 1,000 tasks were open */
  readonly rejected: number;
  /** progress or end of a task that was not open */
  readonly unmatched: number;
}

export interface ScheduleDoc {
  readonly cron: string;
  /** null: the supervisor's time zone */
  readonly timezone: string | null;
  readonly overlap: OverlapPolicy;
  /** when the next tick comes; null when none is known (or none will come) */
  readonly next_run_at: string | null;
  /** runs started so far (ticks, run_on_start, `vigil start`) */
  readonly runs: number;
  /** ticks that found a run still going and started nothing */
  readonly skipped: number;
  /** a run waits for the running one to end (overlap queue or replace) */
  readonly queued: boolean;
  /** stopped by a person, or not started with the stack: ticks start nothing until `vigil start` */
  readonly held: boolean;
  readonly last_run: { readonly code: number | null; readonly signal: string | null; readonly duration_ms: number | null; readonly ended_at: string } | null;
}

export interface ResourcePointDoc {
  readonly at: string;
  readonly cpu_percent: number | null;
  readonly memory_bytes: number;
}

export interface HostDoc {
  /** all cores together, 0..100 */
  readonly cpu_percent: number;
  readonly cores: number;
  readonly load_avg: readonly [number, number, number];
  readonly mem_total_bytes: number;
  readonly mem_available_bytes: number;
  readonly disk: { readonly path: string; readonly total_bytes: number; readonly used_bytes: number; readonly used_percent: number } | null;
}

export interface SupervisorDoc {
  readonly pid: number;
  readonly started_at: string;
  readonly manifest: string;
  readonly generation: number;
  readonly config_error: string | null;
  /** extensions */
  readonly state_dir: string;
  readonly stopping: boolean;
  /** heartbeat input refused since start: malformed, unknown service, wrong token, over-long */
  readonly rejected_messages: number;
  /** the machine, from the last resource sample (null before the first) */
  readonly host: HostDoc | null;
  /** what is wrong with the supervisor's own files and resources now; empty when nothing is */
  readonly problems: readonly ProblemDoc[];
  /** the supervisor's sockets and what they closed (null while they are not open) */
  readonly connections: ConnectionsDoc | null;
  /** how late its event loop ran: the last tick of a 1 s timer, and the worst of the last minute */
  readonly loop_lag_ms?: number;
  readonly loop_lag_max_ms?: number;
  /** the loop ran less than 1 s late within the last minute, and nothing is in `problems` */
  readonly healthy?: boolean;
  /** how processes are read: "proc" (Linux /proc) or "portable" (ps); null when not known */
  readonly process_backend: "proc" | "portable" | null;
  /**
   * how children are started: "native" (posix_spawn from native/spawn.c, no fork of vigil; Linux with
   * the proc backend) or "child_process" (node:child_process, which forks vigil)
   */
  readonly spawn?: "native" | "child_process";
  /** how often CPU and memory are sampled now, and why (absent from a supervisor without the sampler) */
  readonly sampling?: SamplingDoc;
}

/**
 * full: every resources.interval, because a service has limits, a disk check is set, the manifest sets
 * the interval, or someone watches (status --watch, a dashboard, a metrics scrape); idle: nothing
 * needs fresh figures, so they are sampled seldom (their values are then up to interval_ms old).
 */
export interface SamplingDoc {
  readonly pace: "full" | "idle";
  readonly interval_ms: number;
  /** what holds the full pace ("limits", "disk-check", "host-check", "interval-set", "watched"); "none" when idle */
  readonly because: string;
}

/**
 * disk: a write to the state directory failed for want of space or of a working disk (ENOSPC, EDQUOT,
 * EIO, EROFS); fds: for want of file descriptors (EMFILE, ENFILE); state-dir: a file there that vigil
 * refuses (a symbolic link, another user's file); write: any other failed write.
 */
export type ProblemKind = "disk" | "fds" | "state-dir" | "write";

export interface ProblemDoc {
  readonly kind: ProblemKind;
  /** one line: what cannot be done, and why */
  readonly message: string;
  /** when it began */
  readonly since: string;
}

/** one socket's connections now, and those it closed since start */
export interface ConnectionStatsDoc {
  readonly open: number;
  /** closed to make room for a newcomer */
  readonly evicted: number;
  /** closed after going too long without valid input */
  readonly idle_closed: number;
  /** closed after rejected input */
  readonly reject_closed: number;
}

export interface ConnectionsDoc {
  readonly heartbeat: ConnectionStatsDoc;
  readonly control: ConnectionStatsDoc;
  /** null without an HTTP API */
  readonly http: ConnectionStatsDoc | null;
}

export interface StatusDocument extends OutsideDocs {
  readonly supervisor: SupervisorDoc;
  readonly services: readonly ServiceDoc[];
}
