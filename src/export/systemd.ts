// The stack → systemd: a unit per service and STACK.target that wants them all.
import { basename } from "node:path";
import type { ServiceConfig } from "../manifest/types.js";
import { lossComment, type ExportResult, type Loss } from "./losses.js";
import { completedDependencies, stackLosses } from "./stack.js";
import { specifierSafe } from "./systemd-quote.js";
import { instanceUnits, serviceUnit, targetName, type SystemdInput } from "./systemd-unit.js";

export type { SystemdInput } from "./systemd-unit.js";

export function exportSystemd(input: SystemdInput): ExportResult {
  const { manifest, stackName } = input;
  const byName = new Map<string, ServiceConfig>(manifest.services.map((service) => [service.name, service]));
  const ctx = { input, byName, oneshots: completedDependencies(manifest) };
  const units = manifest.services.map((service) => serviceUnit(service, ctx));
  const stackWide = stackLosses(manifest, "systemd");
  const target = {
    name: targetName(stackName),
    text: targetText(input, stackWide),
  };
  return { files: [target, ...units.map((unit) => unit.file)], losses: [...stackWide, ...units.flatMap((unit) => unit.losses)] };
}

function targetText(input: SystemdInput, losses: readonly Loss[]): string {
  const wants = input.manifest.services.flatMap((service) => instanceUnits(input.stackName, service));
  return [
    `# the stack of ${basename(input.manifest.file)}, written by vigil export systemd`,
    "# start or stop it whole: systemctl start|stop " + targetName(input.stackName),
    ...losses.map((loss) => lossComment(loss, "systemd")),
    "[Unit]",
    `Description=${specifierSafe(`vigil stack ${input.stackName}`)}`,
    ...(wants.length > 0 ? [`Wants=${wants.join(" ")}`] : []),
    "",
    "[Install]",
    "WantedBy=multi-user.target default.target",
    "",
  ].join("\n");
}
