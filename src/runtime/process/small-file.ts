// Small files of /proc and cgroupfs, read synchronously (they live in memory) on paths that run at
// every spawn and exit: cgroup.procs, /proc/PID/stat.
import { closeSync, openSync, readSync, constants as fsConstants } from "node:fs";

/** a buffer for the small files read synchronously (cgroup.procs, /proc/PID/stat) */
let readBuffer = Buffer.allocUnsafe(16 * 1024);

/**
 * The text of a small file of /proc or cgroupfs, null when it cannot be read: an open, reads into one
 * kept buffer and a close, without readFileSync's stat and fresh buffer (a third of its cost).
 */
export function readSmallFile(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY);
  } catch {
    return null;
  }
  try {
    return readOpenFile(fd);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * The whole text of a small file already open, read from its start (pread: the descriptor can be kept
 * and read again, as cgroupfs lists anew from offset 0). Throws what the read throws.
 */
export function readOpenFile(fd: number): string {
  let length = 0;
  for (;;) {
    if (length === readBuffer.length) {
      const bigger = Buffer.allocUnsafe(readBuffer.length * 2);
      readBuffer.copy(bigger);
      readBuffer = bigger;
    }
    const n = readSync(fd, readBuffer, length, readBuffer.length - length, length);
    if (n === 0) break;
    length += n;
  }
  return readBuffer.toString("latin1", 0, length);
}
