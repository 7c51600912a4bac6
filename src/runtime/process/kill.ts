// A signal to a process group, never to everything, to init or to vigil's own group. Ending a child's
// whole job (whatever left its group) is job.ts's business.
import { processes } from "./table.js";

function assertTargetPid(pid: number, what: string): void {
  // -1, 0 and 1 would signal everything, our own group, or init: always a bug upstream
  if (!Number.isInteger(pid) || pid <= 1) throw new RangeError(`${what} must be an integer > 1, got ${pid}`);
}

/** process.kill(-pgid, signal); false when the group is gone (or not ours to signal). */
export function signalGroup(pgid: number, signal: NodeJS.Signals | number): boolean {
  assertTargetPid(pgid, "pgid");
  if (pgid === ownGroup()) throw new RangeError(`refusing to signal vigil's own process group ${pgid}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ESRCH" || code === "EPERM") return false;
    throw err;
  }
}

let ownPgid: number | undefined;

/** vigil's own process group: set when it was started, and never changed by vigil itself. */
function ownGroup(): number | undefined {
  ownPgid ??= processes().read(process.pid)?.pgid;
  return ownPgid;
}
