// What `vigil up -d` makes of the stack once the start is over: which instances failed to start.
import type { ServiceDoc } from "../control/status-document.js";

export interface StartFailure {
  readonly name: string;
  readonly why: string;
}

/**
 * The instances that did not start: in backoff or fatal (they could not be spawned, or died at once), or
 * exited other than with status 0. A job that ran and exited 0 started well; one still starting (the wait
 * timed out) did not.
 */
export function startFailures(services: readonly ServiceDoc[]): StartFailure[] {
  return services.flatMap((s): StartFailure[] => {
    const why = failure(s);
    return why === null ? [] : [{ name: s.name, why }];
  });
}

function failure(s: ServiceDoc): string | null {
  const exit = s.last_exit;
  const how = exit === null ? "" : exit.error ? `: ${exit.error}` : exit.signal ? `: killed by ${exit.signal}` : exit.code !== null ? `: exit status ${exit.code}` : "";
  switch (s.state) {
    case "backoff":
      return `failed to start, retrying${how}`;
    case "fatal":
      return `failed to start, gave up${how}`;
    case "exited":
      return exit !== null && (exit.code !== 0 || exit.signal !== null || exit.error) ? `exited${how}` : null;
    case "starting":
      return s.waiting_for && s.waiting_for.length > 0 ? `still waiting for ${s.waiting_for.join(", ")}` : "still starting";
    default:
      return null;
  }
}
