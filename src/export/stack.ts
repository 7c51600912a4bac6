// What both targets need to know about the stack as a whole.
import { basename } from "node:path";
import { BUILTIN_DEFAULTS } from "../manifest/schema.js";
import { parseSize } from "../manifest/units.js";
import type { Manifest, ServiceConfig } from "../manifest/types.js";
import type { ExportTarget, Loss } from "./losses.js";

export interface ExportInput {
  readonly manifest: Manifest;
  /** names the systemd target and units, and labels the Kubernetes objects */
  readonly stackName: string;
  /** each env_file's own variables, by absolute path, as vigil reads the file */
  readonly envFiles: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** A stack's name from its manifest's directory, as docker compose names a project. */
export function defaultStackName(manifestFile: string): string {
  const dir = basename(manifestFile.replace(/\/[^/]*$/, "")) || "vigil";
  const name = dir.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[-.]+/, "");
  return name === "" ? "vigil" : name;
}

/** Services that another one depends on with `completed`: they run to an end, they are jobs. */
export function completedDependencies(manifest: Manifest): ReadonlySet<string> {
  const names = new Set<string>();
  for (const service of manifest.services) {
    for (const [dep, condition] of Object.entries(service.dependsOn)) if (condition === "completed") names.add(dep);
  }
  return names;
}

/** `healthy` means no more than `started` for a dependency that has neither heartbeats nor a readiness probe. */
export function healthyMeansStarted(dep: ServiceConfig): boolean {
  return dep.heartbeat === null && dep.probes.readiness === null;
}

/** The heartbeat transport, widened: `notify` (SPEC §6.3) may not be in the manifest schema yet. */
export function heartbeatVia(service: ServiceConfig): string | null {
  return service.heartbeat === null ? null : service.heartbeat.via;
}

export interface EnvSplit {
  /** what env sets beyond the env_file: the file's own values are left to the file */
  readonly inline: Readonly<Record<string, string>>;
  /** names that env sets over a different value in the env_file */
  readonly overridden: readonly string[];
  /** the env_file's variables, empty without one */
  readonly fromFile: Readonly<Record<string, string>>;
}

export function splitEnv(service: ServiceConfig, envFiles: ExportInput["envFiles"]): EnvSplit {
  const fromFile = service.envFile === null ? {} : (envFiles.get(service.envFile) ?? {});
  const inline: Record<string, string> = {};
  const overridden: string[] = [];
  for (const [name, value] of Object.entries(service.env)) {
    if (fromFile[name] === value) continue;
    inline[name] = value;
    if (name in fromFile) overridden.push(name);
  }
  return { inline, overridden, fromFile };
}

const DEFAULT_LOG_BYTES = parseSize(BUILTIN_DEFAULTS.logs.max_size);
const DEFAULT_LOG_KEEP = BUILTIN_DEFAULTS.logs.keep;

/** Log rotation set to other than the built-in values: the target's own log store decides instead. */
export function logRotationLosses(service: ServiceConfig, store: string): Loss[] {
  const { maxBytes, keep } = service.logs;
  if (maxBytes === DEFAULT_LOG_BYTES && keep === DEFAULT_LOG_KEEP) return [];
  return [{ subject: service.name, key: "logs.max_size", why: `${maxBytes} bytes, keep ${keep}: output goes to ${store}, rotated by its own settings` }];
}

/** start-first restarts and vigil's sockets: what the target offers in their place is named, not written. */
export function zeroDowntimeLosses(service: ServiceConfig, target: ExportTarget): Loss[] {
  const losses: Loss[] = [];
  if (service.restart.mode === "start-first") {
    const instead = target === "systemd" ? "systemd stops the old process before it starts the new one" : "a Deployment's rolling update (maxSurge) with a readinessProbe does the same";
    losses.push({ subject: service.name, key: "restart.mode", why: `start-first is vigil's; ${instead}` });
  }
  if (service.sockets.length > 0) {
    const instead = target === "systemd" ? "a .socket unit passes sockets the same way (LISTEN_FDS); write one by hand" : "a Service in front of the pods takes their place";
    losses.push({ subject: service.name, key: "sockets", why: `${service.sockets.map((s) => s.name).join(", ")} not exported; ${instead}` });
  }
  return losses;
}

/** Stack-wide keys that belong to the supervisor itself, which neither target runs. */
export function stackLosses(manifest: Manifest, target: ExportTarget): Loss[] {
  const subject = basename(manifest.file);
  const instead = target === "systemd" ? "systemd's own tools" : "the cluster's own tools";
  const losses: Loss[] = [];
  if (manifest.http !== null) {
    losses.push({ subject, key: "http", why: `vigil's HTTP API and /metrics are not there without vigil; use ${instead}` });
  }
  if (manifest.alerts.length > 0) {
    const n = manifest.alerts.length;
    losses.push({ subject, key: "alerts", why: `${n} rule${n === 1 ? "" : "s"} that vigil would deliver; ${target === "systemd" ? "an OnFailure= unit" : "an alerting rule on the cluster's metrics"} can take their place` });
  }
  if (manifest.checks.disk !== null) {
    losses.push({ subject, key: "checks.disk", why: "the disk is not watched; use a monitoring agent" });
  }
  for (const key of ["cpu", "memory"] as const) {
    if (manifest.checks[key]) losses.push({ subject, key: `checks.${key}`, why: `the host's ${key} is not watched; use a monitoring agent` });
  }
  if (manifest.unmanaged) losses.push({ subject, key: "heartbeat.unmanaged", why: "beats of processes without a service are vigil's to list" });
  for (const ping of manifest.pings ?? []) {
    losses.push({ subject: ping.name, key: "ping", why: `a check that runs nothing and expects pings; not exported (${target === "systemd" ? "a timer unit with OnFailure=" : "a CronJob's own failure alerts"} or healthchecks.io can take its place)` });
  }
  for (const service of manifest.services) {
    if (service.adopt) {
      const runs = service.argv.length > 0 ? "exported as a unit that runs its command; a command that daemonizes needs Type=forking and PIDFile= (systemd) or to run in the foreground" : "no command to run: not exported";
      losses.push({ subject: service.name, key: "adopt", why: `vigil watches a process it did not start; ${runs}` });
    }
    for (const kind of Object.keys(service.actions)) {
      losses.push({ subject: service.name, key: `actions.${kind}`, why: `vigil runs it on the service's trouble; ${target === "systemd" ? "an OnFailure= unit" : "a liveness probe or an alerting rule"} may take its place` });
    }
  }
  return losses;
}

/** An adopted service with no command gives a target nothing to run: it is left out (stackLosses says so). */
export function exportableServices(manifest: Manifest): Manifest {
  const services = manifest.services.filter((service) => !(service.adopt && service.argv.length === 0));
  return services.length === manifest.services.length ? manifest : { ...manifest, services };
}
