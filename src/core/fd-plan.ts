// How many file descriptors a stack needs, and whether the open-file limit leaves enough. What vigil
// holds itself is measured at start (about 22: stdio, the event loop's epoll and eventfds, libuv's
// pipes, inotify, the control and heartbeat sockets); what each service adds is counted, as measured
// on Linux with Node 20: its stdout and stderr (a socket pair each, vigil's end), the pidfd that tells
// its exit (the native spawn; node:child_process needs none, and the count keeps it), an IPC channel,
// a connection to the heartbeat socket, and while descriptors are plenty, its log file and the
// /proc/PID/stat of its main process, which are kept open so as not to be opened again and again.

/** stdout and stderr of a child, and its pidfd */
export const CHILD_FDS = 3;
/** the log file and a /proc/PID/stat handle, kept open only while descriptors are plenty */
export const HELD_FDS = 2;
/** vigil.log and events.jsonl, opened by the first line written to them */
export const OWN_FILES_FDS = 2;
/**
 * always kept free: for a `vigil status` or `vigil down` connection, status.json's temp file, a log
 * opened for one write, a /proc read, the pipes of a spawn or of a probe
 */
export const RESERVE_FDS = 16;
/** holding files open is given up when it would leave less than this free */
const HOLD_MARGIN_FDS = 64;

export interface ServiceFdShape {
  /** heartbeats over an IPC channel: one more descriptor */
  readonly ipc: boolean;
  /** heartbeats over a connection to heartbeat.sock: one more */
  readonly socketBeats: boolean;
}

/** What one service's child costs while it runs. */
export function serviceFds(s: ServiceFdShape, holdFiles: boolean): number {
  return CHILD_FDS + (s.ipc ? 1 : 0) + (s.socketBeats ? 1 : 0) + (holdFiles ? HELD_FDS : 0);
}

export interface FdPlan {
  /** keep log files and /proc handles open (false: open them for each use) */
  readonly holdFiles: boolean;
  /** what the stack needs with the files held as planned, the reserve included */
  readonly needFds: number;
  /** what the limit leaves beyond that need (negative: some services will not start) */
  readonly spareFds: number;
  /** worth a warning: less than another reserve is spare */
  readonly small: boolean;
}

export function planFds(limitFds: number, ownFds: number, services: readonly ServiceFdShape[]): FdPlan {
  const base = ownFds + OWN_FILES_FDS + RESERVE_FDS;
  const need = (hold: boolean): number => services.reduce((sum, s) => sum + serviceFds(s, hold), base);
  const holdFiles = limitFds - need(true) >= HOLD_MARGIN_FDS;
  const needFds = need(holdFiles);
  const spareFds = limitFds - needFds;
  return { holdFiles, needFds, spareFds, small: spareFds < RESERVE_FDS };
}

/** A limit to suggest: four times the need, as a power of two, at least 1024. */
export function suggestedLimit(needFds: number): number {
  let limit = 1024;
  while (limit < needFds * 4) limit *= 2;
  return limit;
}
