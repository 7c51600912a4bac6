// Probe status from a run of check results, as Kubernetes counts them: one success passes,
// `failures` consecutive failures fail, and only transitions are reported.

export type ProbeStatus = "unknown" | "passing" | "failing";
export type ProbeChange = Exclude<ProbeStatus, "unknown">;

export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
  /** monotonic time the check ended */
  readonly atMs: number;
}

export interface ProbeState {
  readonly status: ProbeStatus;
  readonly consecutiveFailures: number;
  readonly totalChecks: number;
  readonly totalFailures: number;
  /** null until the first check ends */
  readonly lastCheckAtMs: number | null;
  readonly lastOk: boolean | null;
  readonly lastDetail: string | null;
}

export const INITIAL_PROBE_STATE: ProbeState = {
  status: "unknown",
  consecutiveFailures: 0,
  totalChecks: 0,
  totalFailures: 0,
  lastCheckAtMs: null,
  lastOk: null,
  lastDetail: null,
};

export interface ProbeStep {
  readonly state: ProbeState;
  /** the new status when this result changed it, else null */
  readonly changed: ProbeChange | null;
}

export function trackProbe(state: ProbeState, result: ProbeResult, failuresThreshold: number): ProbeStep {
  if (!Number.isInteger(failuresThreshold) || failuresThreshold < 1) {
    throw new RangeError(`failuresThreshold must be an integer ≥ 1, got ${failuresThreshold}`);
  }
  const consecutiveFailures = result.ok ? 0 : state.consecutiveFailures + 1;
  const status = nextStatus(state.status, result.ok, consecutiveFailures >= failuresThreshold);
  return {
    state: {
      status,
      consecutiveFailures,
      totalChecks: state.totalChecks + 1,
      totalFailures: state.totalFailures + (result.ok ? 0 : 1),
      lastCheckAtMs: result.atMs,
      lastOk: result.ok,
      lastDetail: result.detail,
    },
    changed: status === state.status || status === "unknown" ? null : status,
  };
}

function nextStatus(status: ProbeStatus, ok: boolean, thresholdReached: boolean): ProbeStatus {
  if (ok) return "passing";
  // failures below the threshold keep whatever was known, "unknown" included
  return thresholdReached ? "failing" : status;
}
