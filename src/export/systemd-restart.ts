// restart: → Restart=, RestartSec=/RestartSteps=/RestartMaxDelaySec= (systemd ≥ 254) and the start
// limit. systemd grows the delay from RestartSec= to RestartMaxDelaySec= in RestartSteps= equal
// factors, so vigil's factor is met exactly only when it lands on max; otherwise it is the nearest.
import type { RestartConfig, RestartPolicy } from "../manifest/types.js";
import { systemdSpan, vigilSpan } from "./durations.js";

export interface RestartKeys {
  /** [Service] lines */
  readonly service: readonly string[];
  /** [Unit] lines */
  readonly unit: readonly string[];
  /** key → why, for what systemd cannot hold */
  readonly lost: readonly (readonly [string, string])[];
}

const RESTART: Readonly<Record<RestartPolicy, string>> = { always: "always", "on-failure": "on-failure", never: "no" };

/** oneshot: the service is a job others wait for; systemd refuses Restart=always for those. */
export function restartKeys(restart: RestartConfig, oneshot: boolean): RestartKeys {
  const lost: [string, string][] = [];
  let policy = restart.policy;
  if (oneshot && policy === "always") {
    policy = "on-failure";
    lost.push(["restart.policy", "always: a Type=oneshot unit (another service waits for it to complete) restarts only on failure"]);
  }
  const service = [`Restart=${RESTART[policy]}`];
  if (policy === "never") return { service, unit: [], lost };
  // systemd counts a death by SIGHUP, SIGINT, SIGTERM or SIGPIPE as clean; vigil restarts it
  if (policy === "on-failure") service.push("RestartForceExitStatus=SIGHUP SIGINT SIGTERM SIGPIPE");
  const { initialMs, factor, maxMs, jitter, resetAfterMs } = restart.backoff;
  service.push(`RestartSec=${systemdSpan(initialMs)}`);
  if (factor > 1 && maxMs > initialMs && initialMs > 0) {
    const steps = Math.max(1, Math.ceil(Math.log(maxMs / initialMs) / Math.log(factor) - 1e-9));
    service.push(`RestartSteps=${steps}`, `RestartMaxDelaySec=${systemdSpan(maxMs)}`);
    const actual = (maxMs / initialMs) ** (1 / steps);
    if (Math.abs(actual - factor) > 0.005) {
      lost.push(["restart.backoff.factor", `${factor}: systemd spreads ${steps} equal steps from ${vigilSpan(initialMs)} to ${vigilSpan(maxMs)}, each ${actual.toFixed(2)}× the last`]);
    }
  } else if (factor > 1 && initialMs === 0) {
    lost.push(["restart.backoff.factor", `${factor}: systemd cannot grow a delay that starts at 0; every restart waits 0`]);
  }
  if (jitter > 0) lost.push(["restart.backoff.jitter", `${jitter}: systemd restarts after the exact delay`]);
  lost.push(["restart.backoff.reset_after", `${vigilSpan(resetAfterMs)}: systemd starts the delays anew only on a manual start or reset-failed`]);
  // StartLimitBurst counts starts, the first one too: one start and max_restarts restarts
  const unit = [`StartLimitIntervalSec=${systemdSpan(restart.windowMs)}`, `StartLimitBurst=${restart.maxRestarts + 1}`];
  return { service, unit, lost };
}
