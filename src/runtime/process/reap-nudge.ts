// Node learns that a child exited from SIGCHLD: libuv's handler then reaps every child of its own that
// has exited. (A service's child from the native spawn is watched through its pidfd instead, which no
// lost signal can hide; probes and one-off commands still go through Node.) A SIGCHLD can be lost: a debugger or `strace` attached to vigil that swallows or drops it
// (gdb's `handle SIGCHLD nopass`, a detach at the wrong moment). The child then stays a zombie that
// vigil takes for running: never restarted, and a shutdown waits for it for ever. Nothing else tells
// Node, until some other child exits.
//
// Three looks catch it: a resource sweep that finds a zombie whose parent is vigil (a service's main
// process, a probe's command), a SIGKILL that has not ended its child a second later, and a sweep that
// still waits for its own `ps` after five seconds. Each raises SIGCHLD on vigil itself, and
// libuv looks at all its children again. One too many costs nothing: with nothing exited, the handler
// reaps nothing.
export function nudgeReaper(): void {
  try {
    process.kill(process.pid, "SIGCHLD");
  } catch {
    // no such signal here (Windows): nothing to nudge
  }
}

/** how long after a SIGKILL its child's exit may go unheard before the reaper is nudged */
export const KILLED_EXIT_GRACE_MS = 1000;
