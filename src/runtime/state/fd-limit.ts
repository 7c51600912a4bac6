// The open-file limit and the descriptors in use, from /proc/self on Linux; elsewhere (and with
// VIGIL_PROCESS_BACKEND=portable) from `ulimit -n` and /dev/fd. Node raises its soft limit to the hard one
// at start, so the soft limit read here is all there is. Loaded by the CLI before anything else of
// `vigil up`: it must import nothing but Node's own modules.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** /proc/self is read on Linux unless the portable process backend was asked for */
const useProc = (): boolean => process.platform === "linux" && process.env["VIGIL_PROCESS_BACKEND"] !== "portable";

/**
 * Below this, `vigil up` refuses to start. Node's module loader opens the files of a package all at
 * once (zod's 60 locales among them): loading the supervisor takes about 100 descriptors at the peak,
 * the ~20 Node holds itself included. 128 leaves room for the sockets, the reserve and a few services.
 */
export const VIGIL_MIN_FDS = 128;

/** The soft limit on open files (RLIMIT_NOFILE); null when unlimited or unknown. */
export function readFdLimit(): number | null {
  if (!useProc()) return ulimitFds();
  let text: string;
  try {
    text = readFileSync("/proc/self/limits", "utf8");
  } catch {
    return null;
  }
  // "Max open files            1024                 1048576              files"
  const match = /^Max open files\s+(\S+)/m.exec(text);
  const soft = match ? Number(match[1]) : NaN;
  return Number.isSafeInteger(soft) && soft > 0 ? soft : null;
}

/** The soft limit as a shell started by this process sees it (inherited, so the same); null when unlimited or unknown. */
function ulimitFds(): number | null {
  const result = spawnSync("/bin/sh", ["-c", "ulimit -Sn"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const soft = Number(result.stdout?.trim());
  return Number.isSafeInteger(soft) && soft > 0 ? soft : null;
}

/** Descriptors this process has open now; null when /proc/self/fd cannot be read (out of them, even). */
export function countOpenFds(): number | null {
  try {
    // the directory's own descriptor, open while it is read, is among them (/dev/fd: macOS lists every
    // descriptor there; a BSD without fdescfs mounted shows 0–2 only, and so counts too few)
    return readdirSync(useProc() ? "/proc/self/fd" : "/dev/fd").length - 1;
  } catch {
    return null;
  }
}

/** The one line `vigil up` refuses to start with under a limit too small for vigil itself; else null. */
export function fdFloorProblem(limitFds = readFdLimit()): string | null {
  if (limitFds === null || limitFds >= VIGIL_MIN_FDS) return null;
  return (
    `vigil: the open-file limit is ${limitFds} (ulimit -n), and vigil needs at least ${VIGIL_MIN_FDS} for itself, ` +
    `plus 3 to 7 a service: raise it (ulimit -n 4096 before vigil up, or LimitNOFILE= in a systemd unit)`
  );
}
