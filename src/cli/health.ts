// vigil health: for cron and probes of the whole stack. Silent and 0 when every service is well, one line
// per service that is not (and for the supervisor itself) and 3 otherwise, 1 when no supervisor runs.
import type { ServiceDoc, StatusDocument } from "../control/status-document.js";
import type { ControlRequest } from "../control/protocol.js";
import { ask } from "./target.js";

export const NOT_WELL_EXIT = 3;

export interface HealthVerdict {
  readonly name: string;
  readonly state: string;
  readonly health: string;
  readonly well: boolean;
  /** why it is not well; null when it is */
  readonly problem: string | null;
}

/**
 * Not well: health degraded, critical or failed; state fatal or backoff; or exited after a failure (a
 * job whose last run failed). Starting, stopping, stopped by a person, and exited with code 0 are well.
 */
export function verdict(s: ServiceDoc): HealthVerdict {
  const exit = s.last_exit;
  let problem: string | null = null;
  if (s.state === "fatal") problem = "fatal: crash loop, not restarted any more";
  else if (s.state === "backoff") problem = `backoff: restarting${s.next_restart_at ? ` at ${s.next_restart_at}` : ""}${exit ? ` after ${exitText(exit)}` : ""}`;
  else if (s.health === "degraded" || s.health === "critical" || s.health === "failed") problem = `health ${s.health}`;
  else if (s.state === "exited" && exit && exit.reason === "exit" && (exit.code !== 0 || exit.signal !== null)) problem = `exited after a failure: ${exitText(exit)}`;
  return { name: s.name, state: s.state, health: s.health, well: problem === null, problem };
}

function exitText(exit: NonNullable<ServiceDoc["last_exit"]>): string {
  const how = exit.signal ? exit.signal : `code ${exit.code}`;
  return exit.reason === "exit" ? how : `${how} (reason ${exit.reason})`;
}

export async function healthCommand(names: readonly string[], file: string, opts: { readonly json: boolean }): Promise<number> {
  const req: ControlRequest = { cmd: "status", ...(names.length > 0 ? { names } : {}) };
  const doc = (await ask(file, req)) as StatusDocument;
  const services = doc.services.map(verdict);
  const sup = doc.supervisor;
  const supervisorWell = sup.healthy !== false;
  const well = supervisorWell && services.every((s) => s.well);
  if (opts.json) {
    const supervisor = { pid: sup.pid, healthy: supervisorWell, loop_lag_ms: sup.loop_lag_ms ?? null, loop_lag_max_ms: sup.loop_lag_max_ms ?? null, problems: sup.problems };
    process.stdout.write(`${JSON.stringify({ healthy: well, supervisor, services })}\n`);
  } else {
    const lines: string[] = [];
    if (!supervisorWell) {
      const why = sup.problems.length > 0 ? sup.problems.map((p) => p.message).join("; ") : `its event loop ran ${sup.loop_lag_max_ms ?? "?"} ms late`;
      lines.push(`vigil (pid ${sup.pid}): not well: ${why}`);
    }
    const bad = services.filter((s) => !s.well);
    const width = Math.max(0, ...bad.map((s) => s.name.length));
    for (const s of bad) lines.push(`${s.name.padEnd(width)}  ${s.state}  ${s.health}  ${s.problem}`);
    if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
  }
  return well ? 0 : NOT_WELL_EXIT;
}
