import type { ExitInfo, ExitReason, ServiceState } from "./types.js";

/** What to do once the child being stopped has exited. */
export interface PendingStop {
  readonly then: "hold" | "restart";
  readonly reason: ExitReason;
}

/** The runtime state of one service: plain data, replaced (never mutated) by each transition. */
export interface ServiceStatus {
  readonly state: ServiceState;
  /** number of spawns so far; events of an older incarnation are ignored */
  readonly incarnation: number;
  /** true between the Spawn effect and its Spawned / SpawnFailed answer */
  readonly spawnInFlight: boolean;
  readonly pid: number | null;
  /** monotonic ms when the current child was spawned */
  readonly startedAtMs: number | null;
  /** restarts performed since the supervisor started */
  readonly restarts: number;
  /** times of restarts inside the crash-loop window */
  readonly restartTimes: readonly number[];
  /** backoff step: consecutive failures since the last long-enough run */
  readonly attempt: number;
  readonly lastExit: ExitInfo | null;
  readonly nextRestartAtMs: number | null;
  readonly pending: PendingStop | null;
}

export const initialStatus: ServiceStatus = {
  state: "stopped",
  incarnation: 0,
  spawnInFlight: false,
  pid: null,
  startedAtMs: null,
  restarts: 0,
  restartTimes: [],
  attempt: 0,
  lastExit: null,
  nextRestartAtMs: null,
  pending: null,
};
