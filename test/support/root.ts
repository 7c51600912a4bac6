// Tests that need root (another uid's files, a tmpfs of their own) run in CI, which runs as root, and
// are skipped on a developer's laptop.
import { execFileSync } from "node:child_process";
import { afterEach } from "vitest";

export const isRoot = process.getuid?.() === 0;

/** a uid that owns nothing on the machine, for files "of another user" */
export const OTHER_UID = 12345;

export interface Mounts {
  /** mounts a tmpfs of `sizeBytes` at `dir` (an existing directory), owned by root, mode 0700 */
  tmpfs(dir: string, sizeBytes: number): void;
}

/** For a test file: every tmpfs mounted through it is unmounted after its test, even a failed one. */
export function useMounts(): Mounts {
  const mounted: string[] = [];
  afterEach(() => {
    // lazy: a supervisor still holding files there must not keep the mount alive
    for (const dir of mounted.splice(0).reverse()) execFileSync("umount", ["-l", dir]);
  });
  return {
    tmpfs(dir, sizeBytes) {
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0700`, "tmpfs", dir]);
      mounted.push(dir);
    },
  };
}
