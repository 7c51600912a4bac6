// The status document as JSON text, a few services per turn of the event loop. With 1,000 services one
// rendering takes a few milliseconds (tens with the history series), and the watchdog's deadlines,
// exits and restarts must not wait that long behind it.
import type { Supervisor } from "./supervisor.js";
import { TimeSlice } from "./time-slice.js";

/** longest stretch of rendering before the event loop gets a turn */
const TURN_MS = 1;

export interface RenderOptions {
  /** only these services (UnknownServiceError, before any work, for one not known) */
  readonly names?: readonly string[];
  readonly history?: boolean;
  /** one service a line (for a file a person may grep); else one line */
  readonly lines?: boolean;
}

/**
 * JSON.stringify(supervisor.status(names, { history })), built across turns: each service as it is
 * when its turn comes, the supervisor's own part at the end.
 */
export async function renderStatusJson(supervisor: Supervisor, opts: RenderOptions = {}): Promise<string> {
  const runners = supervisor.selected(opts.names);
  const history = opts.history === true;
  const parts: string[] = [];
  const slice = new TimeSlice(TURN_MS);
  for (const r of runners) {
    if (slice.over) await slice.next();
    // dropped by a reload while this was rendered
    if (supervisor.runners.get(r.name) !== r) continue;
    parts.push(supervisor.serviceJson(r, history));
  }
  const head = JSON.stringify(supervisor.supervisorDoc());
  if (!opts.lines) return `{"supervisor":${head},"services":[${parts.join(",")}]}`;
  return parts.length === 0 ? `{"supervisor":${head},"services":[]}` : `{"supervisor":${head},"services":[\n${parts.join(",\n")}\n]}`;
}
