// One service → one unit (a template NAME@.service when it has replicas), and what it loses.
import { basename, isAbsolute, resolve } from "node:path";
import type { ServiceConfig } from "../manifest/types.js";
import { systemdSpan, vigilSpan } from "./durations.js";
import { lossComment, type ExportFile, type Loss } from "./losses.js";
import { healthyMeansStarted, heartbeatVia, logRotationLosses, splitEnv, zeroDowntimeLosses, type ExportInput } from "./stack.js";
import { environmentWord, execLine, specifierSafe } from "./systemd-quote.js";
import { restartKeys } from "./systemd-restart.js";

export interface SystemdInput extends ExportInput {
  /** the absolute path of a program named without a slash, as vigil's PATH finds it; null: not found */
  readonly findProgram: (name: string) => string | null;
}

export interface UnitContext {
  readonly input: SystemdInput;
  readonly byName: ReadonlyMap<string, ServiceConfig>;
  /** services others depend on with `completed` */
  readonly oneshots: ReadonlySet<string>;
}

export const targetName = (stackName: string): string => `${stackName}.target`;

/** The unit file's name: STACK-NAME.service, or the template STACK-NAME@.service. */
export function unitFileName(stackName: string, service: ServiceConfig): string {
  return `${stackName}-${service.name}${service.replicas === 1 ? "" : "@"}.service`;
}

/** The units that run: one, or one per instance of the template. */
export function instanceUnits(stackName: string, service: ServiceConfig): string[] {
  if (service.replicas === 1) return [`${stackName}-${service.name}.service`];
  return Array.from({ length: service.replicas }, (_, i) => `${stackName}-${service.name}@${i}.service`);
}

export function serviceUnit(service: ServiceConfig, ctx: UnitContext): { file: ExportFile; losses: Loss[] } {
  const { stackName } = ctx.input;
  const losses: Loss[] = [];
  const lose = (key: string, why: string): void => void losses.push({ subject: service.name, key, why });
  if (service.watch) lose("watch", "systemd does not restart a unit when files change (a .path unit could trigger a restart, but not debounced nor loop-checked)");
  if (service.schedule) {
    lose("schedule", `the unit runs as a service, not on the schedule "${service.schedule.cron}"; a .timer unit with OnCalendar= (and Persistent=) would run it, but is not written`);
  }
  if (service.disabled) lose("disabled", "the unit is started with the stack's target; `systemctl disable` or removing its WantedBy keeps it down");
  const unit = [`Description=${specifierSafe(`${service.name} (vigil stack ${stackName})`)}`, `PartOf=${targetName(stackName)}`];
  const body: string[] = [];
  const oneshot = ctx.oneshots.has(service.name);

  const after: string[] = [];
  for (const [depName, condition] of Object.entries(service.dependsOn)) {
    const dep = ctx.byName.get(depName);
    if (dep === undefined) continue;
    after.push(...instanceUnits(stackName, dep));
    if (condition === "healthy" && !healthyMeansStarted(dep) && !(heartbeatVia(dep) === "notify" && !ctx.oneshots.has(dep.name))) {
      lose(`depends_on.${depName}`, `healthy: systemd waits only until ${depName} has started; it cannot see its heartbeats or readiness probe`);
    }
    if (condition === "completed") {
      lose(`depends_on.${depName}`, `completed: ${depName} becomes Type=oneshot with RemainAfterExit=yes, so this waits for its exit; an exit other than 0 fails this start instead of holding it, and ${depName} stays "active" after it ended`);
    }
  }
  if (after.length > 0) unit.push(`After=${after.join(" ")}`, `Requires=${after.join(" ")}`);

  const via = heartbeatVia(service);
  if (oneshot) {
    body.push("Type=oneshot", "RemainAfterExit=yes");
    if (via !== null) lose("heartbeat", `${service.name} is a job another service waits for (Type=oneshot), which systemd does not watch`);
  } else if (via === "notify" && service.heartbeat !== null) {
    const { intervalMs, misses, startupGraceMs } = service.heartbeat;
    body.push("Type=notify", "NotifyAccess=all", `WatchdogSec=${systemdSpan(intervalMs * misses)}`);
    body.push(`TimeoutStartSec=${systemdSpan(Math.max(startupGraceMs, intervalMs * misses))}`);
    lose("heartbeat.via", "notify: Type=notify waits for READY=1; vigil takes a first WATCHDOG=1 as the start too");
  } else {
    body.push("Type=exec");
    if (via !== null) lose("heartbeat", `via ${via}: systemd's watchdog hears only sd_notify's WATCHDOG=1 (heartbeat.via: notify)`);
  }

  body.push(`ExecStart=${execLine(executable(service, ctx.input.findProgram, lose))}`);
  body.push(`WorkingDirectory=${specifierSafe(service.cwd)}`);
  const env = splitEnv(service, ctx.input.envFiles);
  const vigilEnv: Record<string, string> = {
    VIGIL_SERVICE: service.name,
    VIGIL_INSTANCE: service.replicas === 1 ? "0" : "%i",
    VIGIL_REPLICAS: String(service.replicas),
  };
  for (const [name, value] of Object.entries(vigilEnv)) body.push(`Environment=${name === "VIGIL_INSTANCE" ? `${name}=${value}` : environmentWord(name, value)}`);
  for (const [name, value] of Object.entries(env.inline)) body.push(`Environment=${environmentWord(name, value)}`);
  if (service.envFile !== null) body.push(`EnvironmentFile=${specifierSafe(service.envFile)}`);
  for (const name of env.overridden) {
    lose(`env.${name}`, `systemd lets EnvironmentFile= win over Environment=, so ${basename(service.envFile ?? "")}'s value applies, not env's`);
  }

  const restart = restartKeys(service.restart, oneshot);
  unit.push(...restart.unit);
  body.push(...restart.service);
  for (const [key, why] of restart.lost) lose(key, why);

  // vigil signals every process of the child's job, then kills the job: control-group, not mixed
  body.push("KillMode=control-group", `KillSignal=${service.stop.signal}`);
  body.push(`TimeoutStopSec=${service.stop.timeoutMs === 0 ? "1ms" : systemdSpan(service.stop.timeoutMs)}`);

  if (service.limits !== null) {
    const { memoryBytes, cpuPercent, forMs } = service.limits;
    if (memoryBytes !== null) body.push(`MemoryMax=${memoryBytes}`);
    if (cpuPercent !== null) {
      body.push(`CPUQuota=${cpuPercent}%`);
      lose("limits.cpu", "CPUQuota= holds the service at the limit; it is never restarted for it");
    }
    const memory = memoryBytes === null ? "" : "MemoryMax= acts at once (the kernel's OOM killer ends the service, and Restart= applies)";
    lose("limits.for", `${vigilSpan(forMs)}: ${memory || "systemd has no limit that restarts after a time over it"}`);
  }
  if (service.probes.liveness !== null) lose("probes.liveness", "systemd runs no health checks");
  if (service.probes.readiness !== null) lose("probes.readiness", "systemd runs no health checks; its readiness is READY=1 (heartbeat.via: notify)");
  if (service.logs.staleAfterMs !== null) lose("logs.stale_after", `${vigilSpan(service.logs.staleAfterMs)}: systemd does not watch output for silence`);
  if (service.tasks !== null) lose("tasks", "systemd hears of no tasks: nothing warns of a stale one or acts on a timeout");
  losses.push(...logRotationLosses(service, "the journal"));
  losses.push(...zeroDowntimeLosses(service, "systemd"));

  const header = [`# ${service.name} from ${basename(ctx.input.manifest.file)}, written by vigil export systemd`];
  if (service.replicas !== 1) header.push(`# a template: ${service.replicas} instances, ${service.name}@0 … ${service.name}@${service.replicas - 1}, with VIGIL_INSTANCE=%i`);
  header.push(...losses.map((loss) => lossComment(loss, "systemd")));
  const text = [
    ...header,
    "[Unit]",
    ...unit,
    "",
    "[Service]",
    ...body,
    "",
    "[Install]",
    `WantedBy=${targetName(stackName)}`,
    "",
  ].join("\n");
  return { file: { name: unitFileName(stackName, service), text }, losses };
}

/** argv with the program as systemd needs it: an absolute path (a relative one is the cwd's). */
function executable(service: ServiceConfig, findProgram: SystemdInput["findProgram"], lose: (key: string, why: string) => void): string[] {
  const [program = "", ...args] = service.argv;
  if (isAbsolute(program)) return [program, ...args];
  if (program.includes("/")) return [resolve(service.cwd, program), ...args];
  const found = findProgram(program);
  if (found === null) lose("command", `${program} is not on the PATH here; systemd looks for it in its own search path only`);
  return [found ?? program, ...args];
}
