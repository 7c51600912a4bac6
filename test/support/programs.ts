// Tests that need a program of the system (redis-server, systemd-notify) skip where it is missing, but
// only off CI: there the program's absence is a failure of the setup (.ci/run installs them).
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export function hasProgram(name: string): boolean {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** true: skip the test, the program is missing and this is not CI */
export function lacking(...names: string[]): boolean {
  return process.env["CI"] === undefined && !names.every(hasProgram);
}
