// One service → a Deployment (or a Job, for what runs to an end) and a ConfigMap for its env_file.
import type { ServiceConfig } from "../manifest/types.js";
import { vigilSpan, wholeSeconds } from "./durations.js";
import { probe, startupProbe, type Lose } from "./kubernetes-probe.js";
import { logRotationLosses, splitEnv, zeroDowntimeLosses, type ExportInput, type EnvSplit } from "./stack.js";
import type { Loss } from "./losses.js";

export type K8sObject = Record<string, unknown> & { readonly kind: string; readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> } };

export interface WorkloadContext {
  readonly input: ExportInput;
  /** service name → object name */
  readonly names: ReadonlyMap<string, string>;
  /** services others depend on with `completed` */
  readonly jobs: ReadonlySet<string>;
  readonly stackLabel: string;
}

export const imagePlaceholder = (name: string): string => `SET-THE-IMAGE-OF-${name}`;

export function serviceObjects(service: ServiceConfig, ctx: WorkloadContext): { objects: K8sObject[]; losses: Loss[] } {
  const losses: Loss[] = [];
  const lose: Lose = (key, why) => void losses.push({ subject: service.name, key, why });
  if (service.watch) lose("watch", "a container is not restarted when files change; build a new image and roll it out instead");
  if (service.schedule) {
    lose("schedule", `written as a long-running workload, not on the schedule "${service.schedule.cron}"; a CronJob (schedule, timeZone, concurrencyPolicy) would run it, but is not written`);
  }
  if (service.disabled) lose("disabled", "the workload runs once applied; scale it to 0 replicas to keep it down");
  const name = ctx.names.get(service.name) ?? service.name;
  if (name !== service.name) lose("name", `object names take lowercase letters, digits and '-' only: it is ${name}`);
  const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ctx.stackLabel };
  const env = splitEnv(service, ctx.input.envFiles);
  const asJob = service.restart.policy === "never" || ctx.jobs.has(service.name);
  const objects: K8sObject[] = [];
  if (service.envFile !== null) {
    objects.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `${name}-env`, labels }, data: { ...env.fromFile } });
    lose("env_file", `its variables are copied into the ConfigMap ${name}-env now: export again after editing it, and move secrets to a Secret`);
  }

  lose("command", `it runs in a container: set the image (now ${imagePlaceholder(name)}) to one that has ${service.argv[0] ?? "it"}`);
  lose("cwd", `${service.cwd} is a path on this host: set workingDir once the image is chosen`);
  for (const [dep, condition] of Object.entries(service.dependsOn)) {
    const what = condition === "completed" ? `the Job ${ctx.names.get(dep) ?? dep} to complete` : `${ctx.names.get(dep) ?? dep} to be ${condition === "healthy" ? "ready" : "running"}`;
    lose(`depends_on.${dep}`, `${condition}: Kubernetes starts pods in no order; an initContainer that waits for ${what} can hold this one back`);
  }
  if (service.heartbeat !== null) {
    lose("heartbeat", `via ${service.heartbeat.via}: Kubernetes hears no heartbeats; a liveness probe can take their place`);
  }
  if (service.logs.staleAfterMs !== null) lose("logs.stale_after", `${vigilSpan(service.logs.staleAfterMs)}: nothing watches the output for silence`);
  if (service.tasks !== null) lose("tasks", "Kubernetes hears of no tasks: nothing warns of a stale one or acts on a timeout");
  losses.push(...logRotationLosses(service, "the container runtime's log files"));
  losses.push(...zeroDowntimeLosses(service, "kubernetes"));

  const container: Record<string, unknown> = {
    name,
    image: imagePlaceholder(name),
    command: service.argv.slice(0, 1),
    ...(service.argv.length > 1 ? { args: service.argv.slice(1) } : {}),
    env: envList(service, env, asJob, lose),
    ...(service.envFile !== null ? { envFrom: [{ configMapRef: { name: `${name}-env` } }] } : {}),
    ...probes(service, lose),
    ...resources(service, lose),
  };
  const grace = wholeSeconds(service.stop.timeoutMs);
  if (grace * 1000 !== service.stop.timeoutMs) lose("stop.timeout", `${vigilSpan(service.stop.timeoutMs)}: Kubernetes counts whole seconds: ${grace}s`);
  if (service.stop.signal !== "SIGTERM") lose("stop.signal", `${service.stop.signal}: the kubelet stops a container with SIGTERM (or the image's STOPSIGNAL)`);
  const podSpec = { terminationGracePeriodSeconds: grace, containers: [container] };
  objects.push(asJob ? job(service, name, labels, podSpec, lose) : deployment(service, name, labels, podSpec, lose));
  return { objects, losses };
}

function deployment(service: ServiceConfig, name: string, labels: Record<string, string>, podSpec: Record<string, unknown>, lose: Lose): K8sObject {
  if (service.restart.policy === "on-failure") lose("restart.policy", "on-failure: a Deployment restarts its pods after any exit, 0 too");
  lose("restart.backoff", "the kubelet's back-off between restarts is its own (10s, doubling up to 5m)");
  lose("restart.max_restarts", `${service.restart.maxRestarts} in ${vigilSpan(service.restart.windowMs)}: a Deployment never gives up; a crash loop is retried for ever (CrashLoopBackOff)`);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels },
    spec: { replicas: service.replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec } },
  };
}

function job(service: ServiceConfig, name: string, labels: Record<string, string>, podSpec: Record<string, unknown>, lose: Lose): K8sObject {
  const { policy, maxRestarts } = service.restart;
  if (policy === "always") lose("restart.policy", "always: a Job (another service waits for this one to complete) ends at exit 0");
  if (policy !== "never") {
    lose("restart.backoff", "the Job controller's back-off between retries is its own (10s, doubling up to 6m)");
    lose("restart.window", `backoffLimit counts ${maxRestarts} failures over the Job's whole life, not inside ${vigilSpan(service.restart.windowMs)}`);
  }
  const indexed = service.replicas === 1 ? {} : { completions: service.replicas, parallelism: service.replicas, completionMode: "Indexed" };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, labels },
    spec: {
      backoffLimit: policy === "never" ? 0 : maxRestarts,
      ...indexed,
      template: { metadata: { labels }, spec: { restartPolicy: policy === "never" ? "Never" : "OnFailure", ...podSpec } },
    },
  };
}

function envList(service: ServiceConfig, env: EnvSplit, asJob: boolean, lose: Lose): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [{ name: "VIGIL_SERVICE", value: service.name }];
  if (service.replicas === 1) list.push({ name: "VIGIL_INSTANCE", value: "0" });
  else if (asJob) {
    // an Indexed Job numbers its pods 0 … N-1, as vigil numbers instances
    list.push({ name: "VIGIL_INSTANCE", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } });
  } else {
    lose("replicas", `${service.replicas}: a Deployment's pods have no index, so VIGIL_INSTANCE is not set (a StatefulSet would number them)`);
  }
  list.push({ name: "VIGIL_REPLICAS", value: String(service.replicas) });
  for (const [name, value] of Object.entries(env.inline)) list.push({ name, value });
  return list;
}

function probes(service: ServiceConfig, lose: Lose): Record<string, unknown> {
  const { liveness, readiness } = service.probes;
  const out: Record<string, unknown> = {};
  if (liveness !== null) out["livenessProbe"] = probe(liveness, "probes.liveness", lose);
  if (readiness !== null) out["readinessProbe"] = probe(readiness, "probes.readiness", lose);
  if (liveness !== null && service.heartbeat !== null) {
    const { startupGraceMs, intervalMs, misses } = service.heartbeat;
    out["startupProbe"] = startupProbe(liveness, Math.max(startupGraceMs, intervalMs * misses));
  }
  return out;
}

function resources(service: ServiceConfig, lose: Lose): Record<string, unknown> {
  if (service.limits === null) return {};
  const { memoryBytes, cpuPercent, forMs } = service.limits;
  const limits: Record<string, string> = {};
  if (memoryBytes !== null) limits["memory"] = quantity(memoryBytes);
  const memory = memoryBytes === null ? "" : "the memory limit acts at once (the kernel's OOM killer ends the container)";
  lose("limits.for", `${vigilSpan(forMs)}: ${memory || "no limit restarts a container after a time over it"}`);
  if (cpuPercent !== null) {
    limits["cpu"] = `${Math.max(1, Math.round(cpuPercent * 10))}m`;
    lose("limits.cpu", "a CPU limit holds the container at it; it is never restarted for it");
  }
  return { resources: { limits } };
}

function quantity(bytes: number): string {
  for (const [suffix, size] of [["Gi", 2 ** 30], ["Mi", 2 ** 20], ["Ki", 2 ** 10]] as const) {
    if (bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}
