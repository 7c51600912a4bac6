// The unit that runs a whole stack under systemd: `vigil up` as a notify service with a watchdog
// (SPEC §6.3: vigil sends READY=1 and WATCHDOG=1 itself).
import { dirname } from "node:path";
import type { Manifest } from "../manifest/types.js";
import { systemdSpan } from "./durations.js";
import { environmentWord, execLine, specifierSafe } from "./systemd-quote.js";

export interface InstallInput {
  readonly manifest: Manifest;
  readonly stackName: string;
  /** absolute path of the vigil command (bin/vigil) */
  readonly vigilBin: string;
  /** absolute path of the node that runs it */
  readonly node: string;
  readonly user: boolean;
}

export const WATCHDOG_MS = 30_000;
/** systemd's own search path, which the units' commands see unless told otherwise */
const SYSTEMD_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
/** after the services' own stop timeouts, time for vigil to end and write its state */
const STOP_MARGIN_MS = 10_000;

export const installedUnitName = (stackName: string): string => `vigil-${stackName}.service`;

export function installUnit(input: InstallInput): string {
  const { manifest } = input;
  // bin/vigil runs `node`: the PATH starts with the directory of this node, as when it was installed
  const path = [dirname(input.node), ...SYSTEMD_PATH.filter((dir) => dir !== dirname(input.node))].join(":");
  return [
    `# the vigil stack ${input.stackName}, written by vigil install`,
    "[Unit]",
    `Description=${specifierSafe(`vigil stack ${input.stackName} (${manifest.file})`)}`,
    ...(input.user ? [] : ["After=network.target"]),
    "",
    "[Service]",
    "Type=notify",
    "NotifyAccess=main",
    `ExecStart=${execLine([input.vigilBin, "up", "-f", manifest.file])}`,
    `WorkingDirectory=${specifierSafe(dirname(manifest.file))}`,
    `Environment=${environmentWord("PATH", path)}`,
    `WatchdogSec=${systemdSpan(WATCHDOG_MS)}`,
    // SIGTERM to vigil alone, which stops the services in order; SIGKILL to what is left after the timeout
    "KillMode=mixed",
    `TimeoutStopSec=${systemdSpan(stopTimeoutMs(manifest))}`,
    "Restart=on-failure",
    "",
    "[Install]",
    `WantedBy=${input.user ? "default.target" : "multi-user.target"}`,
    "",
  ].join("\n");
}

/** vigil stops dependants before what they depend on: the longest chain of stop timeouts, and a margin. */
export function stopTimeoutMs(manifest: Manifest): number {
  const byName = new Map(manifest.services.map((service) => [service.name, service]));
  const memo = new Map<string, number>();
  // the loader rejects cycles, so this ends
  const chain = (name: string): number => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const service = byName.get(name);
    if (service === undefined) return 0;
    const below = Object.keys(service.dependsOn).reduce((most, dep) => Math.max(most, chain(dep)), 0);
    const total = service.stop.timeoutMs + below;
    memo.set(name, total);
    return total;
  };
  const longest = manifest.services.reduce((most, service) => Math.max(most, chain(service.name)), 0);
  return Math.max(90_000, longest + STOP_MARGIN_MS);
}
