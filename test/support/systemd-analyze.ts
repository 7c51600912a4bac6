// `systemd-analyze verify` on unit files: the Debian package systemd, which CI installs.
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

export const SYSTEMD_ANALYZE = ["/usr/bin", "/bin", "/usr/sbin"].map((dir) => join(dir, "systemd-analyze")).find((path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
});

/** Without it a developer's run skips; CI must have it, so there the test runs and fails. */
export const skipVerify = SYSTEMD_ANALYZE === undefined && process.env["CI"] === undefined;

// keys of systemd 254 that an older systemd-analyze reports and ignores
const NEWER_KEYS = /: Unknown key '(RestartSteps|RestartMaxDelaySec)' in section \[Service\], ignoring\.$/;

/** Verifies the units; returns what it reported beyond the keys of a newer systemd, and its exit code. */
export function verifyUnits(paths: readonly string[]): Promise<{ code: number; problems: string[] }> {
  return new Promise((resolve) => {
    execFile(SYSTEMD_ANALYZE ?? "systemd-analyze", ["verify", ...paths], (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      const lines = `${stdout}${stderr}`.split("\n").filter((line) => line.trim() !== "" && !NEWER_KEYS.test(line));
      resolve({ code, problems: lines });
    });
  });
}
