import { EventEmitter } from "node:events";
import type { Clock } from "../core/clock.js";
import type { ServiceStatus } from "../core/service-state.js";
import { startOrder } from "../core/start-order.js";
import type { Manifest, ServiceConfig } from "../manifest/types.js";
import type { ConnectionsDoc, ProblemDoc, ResourcePointDoc, ServiceDoc, StatusDocument, SupervisorDoc } from "../control/status-document.js";
import { serviceDocJson } from "../control/status-json.js";
import type { HostStats } from "./resources/host.js";
import type { ResourcePoint, ServiceSample } from "./resources/sampler.js";

export interface ResourceView {
  sample(name: string): ServiceSample | null;
  history(name: string): readonly ResourcePoint[];
  /** history(name) as the status document's JSON series */
  historyJson(name: string, isoOf: (atMs: number) => string): string;
  host(): HostStats | null;
}
import type { Logger } from "./logger.js";
import { formatMs } from "../core/format.js";
import type { LogFileHooks } from "./log-file.js";
import type { Printer } from "./printer.js";
import { IsoMemo, isoOfWall } from "./iso-time.js";
import { ServiceRunner, type JobDeps } from "./service-runner.js";
import { unmetDependencies, type DependencyView } from "./dependencies.js";
import { HeartbeatHub } from "./heartbeats.js";
import { ProbeHub } from "./probes/probe-hub.js";
import { NOT_JSON } from "./child.js";
import { HeartbeatMonitor } from "../core/heartbeat-monitor.js";
import type { ExitReason, Health } from "../core/types.js";

export interface SupervisorEvents {
  change: [name: string, status: ServiceStatus, previous: ServiceStatus];
  spawned: [name: string, pid: number];
  exited: [name: string, pid: number];
  stopped: [];
  /** a beat or health change: worth a status rewrite, not a log line */
  health: [];
  rejected: [kind: string, service: string | undefined];
  /** a service's health level changed: worth an immediate status rewrite */
  healthChanged: [name: string];
  reloaded: [generation: number];
  removed: [name: string];
}

export interface SupervisorOptions {
  /** environment given to every child besides its own (VIGIL_SOCKET, PATH) */
  readonly childEnv?: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly jobs: JobDeps;
  readonly logger: Logger;
  readonly printer: Printer;
  readonly random?: () => number;
  /** for every service's log: where failed writes are reported, how its descriptor is treated */
  readonly logFiles?: LogFileHooks;
  /** null when a child may be spawned now; else why not (too few file descriptors) */
  readonly admitSpawn?: (config: ServiceConfig) => string | null;
}

/** What applyReload needs of a reload plan (src/core/reload-plan.ts computes it). */
export interface ReloadChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly restarted: readonly { readonly name: string }[];
  readonly updated: readonly { readonly name: string }[];
}

export class UnknownServiceError extends Error {
  constructor(
    readonly names: readonly string[],
    readonly known: readonly string[],
  ) {
    super(`unknown service${names.length > 1 ? "s" : ""} ${names.join(", ")} (known: ${known.join(", ")})`);
  }
}

/** The one loop that joins the services: start order, dependency gating, shutdown order, status. */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly runners = new Map<string, ServiceRunner>();
  private order: string[] = [];
  private shuttingDown = false;
  private readonly stopAsked = new Set<string>();
  private readonly restartsByReason = new Map<string, Partial<Record<ExitReason, number>>>();
  /** services removed by a reload, dropped once their child is gone */
  private readonly removing = new Set<string>();
  private stoppedPromise: Promise<void> | null = null;
  /** services queued to start that have not been spawned yet (waiting for their dependencies) */
  private readonly waiting = new Set<string>();
  /** startReady is in a pass; and a change during it asks for one more */
  private starting = false;
  private startAgain = false;
  /** the services in reverse start order with their dependants, once a shutdown begins */
  private stopPlan: readonly { readonly name: string; readonly dependants: readonly string[] }[] | null = null;
  private readonly startedAtWall: number;
  /** the dates of the status document, each formatted once */
  private readonly iso: IsoMemo;
  generation = 1;
  configError: string | null = null;
  rejectedTotal = 0;
  readonly heartbeats: HeartbeatHub;
  readonly probes: ProbeHub;
  /** output staleness, watched with the same deadline logic as heartbeats: a line is a beat */
  private readonly output: HeartbeatMonitor;

  constructor(
    private manifest: Manifest,
    private readonly opts: SupervisorOptions,
  ) {
    super();
    this.startedAtWall = opts.clock.wallNow();
    this.iso = new IsoMemo(opts.clock);
    this.heartbeats = new HeartbeatHub(opts.clock, {
      failed: (name, detail) => {
        this.runners.get(name)?.dispatch({ type: "FailureDetected", reason: "heartbeat", detail });
        this.abandonDependants(name, `${name} did not become healthy (${detail})`);
      },
      healthChanged: (name, health, previous) => {
        const level = health === "critical" || health === "failed" ? "warn" : "info";
        this.opts.logger.log(level, name, "health", `health ${previous} -> ${health}`, { health, previous });
        if (!this.shuttingDown) this.startReady();
        this.emit("healthChanged", name);
      },
    });
    this.probes = new ProbeHub(opts.clock, {
      livenessFailed: (name, detail) => this.runners.get(name)?.dispatch({ type: "FailureDetected", reason: "probe", detail }),
      readinessChanged: (name, status) => {
        this.opts.logger.log(status === "passing" ? "info" : "warn", name, "readiness", `readiness probe ${status}`, { status });
        if (!this.shuttingDown) this.startReady();
      },
      changed: (name) => this.emit("healthChanged", name),
    });
    this.output = new HeartbeatMonitor(opts.clock, { historySize: 0 });
    this.output.on("failed", ({ id }) => {
      const staleMs = this.runners.get(id)?.config.logs.staleAfterMs ?? 0;
      this.runners.get(id)?.dispatch({ type: "FailureDetected", reason: "log-stale", detail: `no output for ${formatMs(staleMs)}` });
    });
    for (const config of manifest.services) this.runners.set(config.name, this.createRunner(config));
    this.order = startOrder(manifest.services);
    opts.printer.setNames(manifest.services.map((s) => s.name));
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Queue every service, then start each as soon as what it depends on is ready. */
  start(): void {
    this.queue(this.order.flatMap((name) => this.runners.get(name) ?? []));
  }

  /** Stop everything, dependants before what they depend on; resolves when every child is gone. */
  shutdown(): Promise<void> {
    if (this.stoppedPromise) return this.stoppedPromise;
    this.shuttingDown = true;
    this.opts.logger.log("info", null, "shutdown", "stopping all services");
    this.stoppedPromise = new Promise((resolve) => {
      const check = (): void => {
        this.stopReady();
        if (this.allIdle()) {
          this.off("change", check);
          this.emit("stopped");
          resolve();
        }
      };
      this.on("change", check);
      check();
    });
    return this.stoppedPromise;
  }

  /** Second Ctrl-C: SIGKILL every process tree now. */
  killAll(): void {
    this.opts.logger.log("warn", null, "kill", "killing every service now");
    for (const r of this.runners.values()) r.dispatch({ type: "KillRequested" });
  }

  control(cmd: "start" | "stop" | "restart", names: readonly string[]): void {
    const unknown = names.filter((n) => !this.runners.has(n));
    if (unknown.length > 0) throw new UnknownServiceError(unknown, [...this.runners.keys()]);
    for (const name of names) {
      const r = this.runners.get(name);
      if (!r) continue;
      if (cmd === "start") r.dispatch({ type: "StartRequested" });
      else if (cmd === "stop") r.dispatch({ type: "StopRequested", reason: "manual" });
      else r.dispatch({ type: "RestartRequested", reason: "manual" });
    }
  }

  /** what the resource sampler knows; set by the stack runtime */
  resources: ResourceView | null = null;
  /** what is wrong with the supervisor's own files and descriptors; set by the stack runtime */
  problems: { list(): readonly ProblemDoc[] } | null = null;
  /** the sockets' connection counters; set by the stack runtime */
  connections: (() => ConnectionsDoc) | null = null;

  status(names?: readonly string[], opts: { history?: boolean } = {}): StatusDocument {
    const history = opts.history === true;
    return { supervisor: this.supervisorDoc(), services: this.selected(names).map((r) => this.serviceDoc(r, history)) };
  }

  /** The runners `names` picks (every one when none), in manifest order; UnknownServiceError for a stranger. */
  selected(names?: readonly string[]): ServiceRunner[] {
    if (!names || names.length === 0) return [...this.runners.values()];
    const unknown = names.filter((n) => !this.runners.has(n));
    if (unknown.length > 0) throw new UnknownServiceError(unknown, [...this.runners.keys()]);
    const wanted = new Set(names);
    return [...this.runners.values()].filter((r) => wanted.has(r.name));
  }

  supervisorDoc(): SupervisorDoc {
    const host = this.resources?.host() ?? null;
    return {
      pid: process.pid,
      started_at: new Date(this.startedAtWall).toISOString(),
      manifest: this.manifest.file,
      generation: this.generation,
      config_error: this.configError,
      state_dir: this.manifest.stateDir,
      stopping: this.shuttingDown,
      rejected_messages: this.rejectedTotal,
      host: host && {
        cpu_percent: host.cpuPercent,
        cores: host.cores,
        load_avg: host.loadAvg,
        mem_total_bytes: host.memTotalBytes,
        mem_available_bytes: host.memAvailableBytes,
        disk: host.disk && { path: host.disk.path, total_bytes: host.disk.totalBytes, used_bytes: host.disk.usedBytes, used_percent: host.disk.usedPercent },
      },
      problems: this.problems?.list() ?? [],
      connections: this.connections?.() ?? null,
    };
  }

  /**
   * Applies a new generation of the manifest, as planned by planReload: adds and starts new services,
   * stops and drops removed ones, restarts changed spawn definitions with reason config, and swaps
   * supervision settings in place. Services the plan does not name are not touched.
   */
  applyReload(next: Manifest, plan: ReloadChanges): void {
    const configs = new Map(next.services.map((c) => [c.name, c]));
    this.manifest = next;
    for (const name of plan.removed) this.removeService(name);
    for (const { name } of plan.updated) {
      const r = this.runners.get(name);
      const config = configs.get(name);
      if (!r || !config) continue;
      r.config = config;
      this.heartbeats.configure(config);
      if (r.status.pid !== null) {
        this.rewatch(r);
        this.startProbes(r);
      }
    }
    for (const { name } of plan.restarted) {
      const r = this.runners.get(name);
      const config = configs.get(name);
      if (!r || !config) continue;
      r.config = config;
      this.heartbeats.configure(config);
      const s = r.status;
      // held down by a person, or still waiting for dependencies: the new definition is used when it starts
      if (s.state === "stopped" || (s.state === "starting" && !s.spawnInFlight)) continue;
      r.dispatch({ type: "RestartRequested", reason: "config" });
    }
    const added: ServiceRunner[] = [];
    for (const name of plan.added) {
      const config = configs.get(name);
      if (config && !this.runners.has(name)) added.push(this.adoptRunner(config));
    }
    // keep the runners in the manifest's order; removed ones stay until their child is gone
    const ordered = new Map<string, ServiceRunner>();
    for (const c of next.services) {
      const r = this.runners.get(c.name);
      if (r) ordered.set(c.name, r);
    }
    for (const [name, r] of this.runners) if (!ordered.has(name)) ordered.set(name, r);
    this.runners.clear();
    for (const [name, r] of ordered) this.runners.set(name, r);
    this.order = startOrder(next.services);
    this.opts.printer.setNames(next.services.map((c) => c.name));
    this.generation++;
    this.configError = null;
    this.queue(added);
    this.emit("reloaded", this.generation);
  }

  /** Restarts per service and per reason (the reason the child before it ended), since start. */
  restartCounts(): Readonly<Record<string, Readonly<Partial<Record<ExitReason, number>>>>> {
    return Object.fromEntries(this.restartsByReason);
  }

  private countRestart(r: ServiceRunner): void {
    const reason = r.status.lastExit?.reason ?? "manual";
    const counts = this.restartsByReason.get(r.name) ?? {};
    counts[reason] = (counts[reason] ?? 0) + 1;
    this.restartsByReason.set(r.name, counts);
  }

  /** a message refused before it could be tied to a child (counted for the service it named) */
  countRejected(service: string | undefined): void {
    const book = service === undefined ? undefined : this.heartbeats.book(service);
    if (book) book.rejected++;
    this.rejectedTotal++;
  }

  async close(): Promise<void> {
    this.probes.stopAll();
    await Promise.all([...this.runners.values()].map((r) => r.close()));
  }

  serviceDoc(r: ServiceRunner, withHistory: boolean): ServiceDoc {
    const s = r.status;
    const sample = s.pid !== null ? (this.resources?.sample(r.name) ?? null) : null;
    const iso = this.iso;
    const exit = s.lastExit;
    const book = this.heartbeats.book(r.name);
    return {
      name: r.name,
      state: s.state,
      health: this.healthOfRunner(r),
      pid: s.pid,
      restarts: s.restarts,
      started_at: iso.of(s.startedAtMs),
      last_beat_at: book?.lastBeatWallMs ? isoOfWall(book.lastBeatWallMs) : null,
      beats: book?.beats ?? 0,
      last_beat_data: book?.lastBeatData ?? null,
      cpu_percent: sample?.cpuPercent ?? null,
      memory_bytes: sample?.rssBytes ?? null,
      last_exit: exit
        ? {
            code: exit.code,
            signal: exit.signal,
            reason: exit.reason,
            at: iso.of(exit.atMs) ?? "",
            ...(exit.error ? { error: exit.error } : {}),
          }
        : null,
      next_restart_at: iso.of(s.nextRestartAtMs),
      command: r.config.command,
      waiting_for: isWaiting(s) ? this.unmet(r.config) : [],
      own_cpu_percent: sample?.ownCpuPercent ?? null,
      own_memory_bytes: sample?.ownRssBytes ?? null,
      processes: sample?.processes ?? null,
      probes: this.probes.doc(r.name),
      rejected_messages: book?.rejected ?? 0,
      status_text: book?.statusText ?? null,
      // last, so that serviceJson can append its text
      ...(withHistory ? { history: this.historyDoc(r.name) } : {}),
    };
  }

  /** JSON.stringify(serviceDoc(r, withHistory)), the history series written as text without objects */
  serviceJson(r: ServiceRunner, withHistory: boolean): string {
    const json = serviceDocJson(this.serviceDoc(r, false));
    if (!withHistory) return json;
    const iso = this.iso;
    const series = this.resources?.historyJson(r.name, (atMs) => iso.of(atMs) ?? "") ?? "[]";
    return `${json.slice(0, -1)},"history":${series}}`;
  }

  /** (Re)starts the probes of a running child; the environment is made only for a service that has some. */
  private startProbes(r: ServiceRunner): void {
    const { liveness, readiness } = r.config.probes;
    if (liveness || readiness) this.probes.start(r.config, r.env);
    else this.probes.stop(r.name);
  }

  private adoptRunner(config: ServiceConfig): ServiceRunner {
    const r = this.createRunner(config);
    this.runners.set(config.name, r);
    return r;
  }

  /** Stops a service by its stop rules, then forgets it once its child is gone. */
  private removeService(name: string): void {
    const r = this.runners.get(name);
    if (!r) return;
    this.removing.add(name);
    r.dispatch({ type: "StopRequested", reason: "config" });
    this.dropIfGone(r);
  }

  private dropIfGone(r: ServiceRunner): void {
    if (!this.removing.has(r.name) || !isIdle(r.status)) return;
    this.removing.delete(r.name);
    this.waiting.delete(r.name);
    this.runners.delete(r.name);
    this.heartbeats.remove(r.name);
    this.probes.stop(r.name);
    this.output.unwatch(r.name);
    void r.close();
    this.emit("removed", r.name);
  }

  /** New heartbeat or output settings for a running child take effect at once. */
  private rewatch(r: ServiceRunner): void {
    const hb = r.config.heartbeat;
    if (hb && !this.heartbeats.monitor.isWatching(r.name)) {
      this.heartbeats.monitor.watch(r.name, { intervalMs: hb.intervalMs, misses: hb.misses, startupGraceMs: hb.startupGraceMs });
    } else if (hb) {
      const stats = this.heartbeats.monitor.statsOf(r.name);
      if (stats && (stats.intervalMs !== hb.intervalMs || stats.misses !== hb.misses)) {
        this.heartbeats.monitor.reconfigure(r.name, { intervalMs: hb.intervalMs, misses: hb.misses, startupGraceMs: hb.startupGraceMs });
      }
    } else {
      this.heartbeats.monitor.unwatch(r.name);
    }
    const staleMs = r.config.logs.staleAfterMs;
    if (staleMs === null) this.output.unwatch(r.name);
    else if (this.output.statsOf(r.name)?.intervalMs !== staleMs) {
      this.output.watch(r.name, { intervalMs: staleMs, misses: 1, startupGraceMs: staleMs });
    }
  }

  /**
   * Heartbeats decide health where the manifest asks for them; otherwise a readiness probe does
   * (failing = critical: not ready, yet not restarted); otherwise a `ready` message.
   */
  healthOf(name: string): Health {
    const r = this.runners.get(name);
    return r ? this.healthOfRunner(r) : "unknown";
  }

  private healthOfRunner(r: ServiceRunner): Health {
    if (r.status.pid === null) return "unknown";
    if (r.config.heartbeat) return this.heartbeats.health(r.name);
    const readiness = this.probes.readiness(r.name);
    if (readiness === "passing") return "healthy";
    if (readiness === "failing") return "critical";
    return this.heartbeats.health(r.name);
  }

  private historyDoc(name: string): ResourcePointDoc[] {
    const iso = this.iso;
    return (this.resources?.history(name) ?? []).map((p) => ({ at: iso.of(p.atMs) ?? "", cpu_percent: p.cpuPercent, memory_bytes: p.rssBytes }));
  }

  private createRunner(config: ServiceConfig): ServiceRunner {
    this.heartbeats.configure(config);
    return new ServiceRunner(config, {
      childEnv: this.opts.childEnv ?? {},
      clock: this.opts.clock,
      jobs: this.opts.jobs,
      logger: this.opts.logger,
      printer: this.opts.printer,
      stateDir: this.manifest.stateDir,
      random: this.opts.random ?? Math.random,
      logFiles: this.opts.logFiles,
      admitSpawn: this.opts.admitSpawn,
      onChange: (runner, previous) => {
        if (isWaiting(runner.status)) this.waiting.add(runner.name);
        else this.waiting.delete(runner.name);
        this.dropIfGone(runner);
        if (runner.status.restarts > previous.restarts) this.countRestart(runner);
        const state = runner.status.state;
        if (state !== previous.state && (state === "fatal" || state === "exited")) {
          this.abandonDependants(runner.name, `${runner.name} is ${state}`);
        }
        this.emit("change", runner.name, runner.status, previous);
        if (!this.shuttingDown) this.startReady();
      },
      onSpawned: (runner, pid) => {
        this.heartbeats.spawned(runner.name, runner.token);
        this.startProbes(runner);
        const staleMs = runner.config.logs.staleAfterMs;
        if (staleMs !== null) this.output.watch(runner.name, { intervalMs: staleMs, misses: 1, startupGraceMs: staleMs });
        this.emit("spawned", runner.name, pid);
      },
      onExited: (runner, pid) => {
        this.heartbeats.exited(runner.name);
        this.probes.stop(runner.name);
        this.output.unwatch(runner.name);
        this.emit("exited", runner.name, pid);
      },
      onOutput: (runner) => {
        if (runner.config.logs.staleAfterMs !== null) this.output.beat(runner.name);
      },
      onMessage: (runner, token, message) => {
        const rejected = message === NOT_JSON ? { kind: "bad-json" as const } : this.heartbeats.fromIpc(runner.name, token, message);
        if (rejected) {
          this.countRejected(runner.name);
          this.emit("rejected", rejected.kind, runner.name);
        } else this.emit("health");
      },
    });
  }

  private unmet(config: ServiceConfig): string[] {
    return unmetDependencies(config, (name) => this.dependencyView(name));
  }

  private dependencyView(name: string): DependencyView | undefined {
    const r = this.runners.get(name);
    if (!r) return undefined;
    const health: Health = this.healthOf(name);
    // heartbeats and ready messages can come from any child, so `healthy` waits for them only where
    // the manifest says beats are expected
    const canBeHealthy = r.config.heartbeat !== null || r.config.probes.readiness !== null;
    return { status: r.status, health, canBeHealthy };
  }

  /** Services still waiting for `name`, whose condition it can no longer meet, give up starting. */
  private abandonDependants(name: string, why: string): void {
    for (const r of this.runners.values()) {
      const s = r.status;
      if (!(name in r.config.dependsOn) || s.state !== "starting" || s.spawnInFlight) continue;
      if (this.unmet(r.config).includes(name)) r.dispatch({ type: "StartAbandoned", detail: why });
    }
  }

  /** Queues the runners, then starts what can start: one pass at the end, not one per queued runner. */
  private queue(runners: readonly ServiceRunner[]): void {
    const wasStarting = this.starting;
    this.starting = true;
    try {
      for (const r of runners) r.dispatch({ type: "Queued" });
    } finally {
      this.starting = wasStarting;
    }
    this.startReady();
  }

  /**
   * Starts every queued service whose dependencies are met. A start changes a status, which calls this
   * again: that nested call only asks for one more pass, so that one change costs one pass over the
   * services, not one pass per service (which made a start of n services O(n²) deep in the stack).
   */
  private startReady(): void {
    // nothing waits for its dependencies: the common case once a stack runs (every beat's first
    // healthy, every restart, calls this)
    if (this.waiting.size === 0) return;
    if (this.starting) {
      this.startAgain = true;
      return;
    }
    this.starting = true;
    try {
      do {
        this.startAgain = false;
        for (const name of this.order) {
          const r = this.runners.get(name);
          if (!r) continue;
          if (!isWaiting(r.status)) continue;
          if (!hasDependencies(r.config) || this.unmet(r.config).length === 0) r.dispatch({ type: "StartRequested" });
        }
      } while (this.startAgain);
    } finally {
      this.starting = false;
    }
  }

  /** Ask each service to stop once nothing that depends on it is still running. */
  private stopReady(): void {
    // who depends on whom cannot change during a shutdown (reloads are refused), so this is built once
    this.stopPlan ??= stopPlan(this.order, this.runners);
    for (const { name, dependants } of this.stopPlan) {
      if (this.stopAsked.has(name)) continue;
      const dependantsIdle = dependants.every((other) => {
        const o = this.runners.get(other);
        return !o || isIdle(o.status);
      });
      if (!dependantsIdle) continue;
      this.stopAsked.add(name);
      this.runners.get(name)?.dispatch({ type: "StopRequested", reason: "manual" });
    }
  }

  private allIdle(): boolean {
    for (const r of this.runners.values()) if (!isIdle(r.status)) return false;
    return true;
  }
}

function isWaiting(s: ServiceStatus): boolean {
  return s.state === "starting" && !s.spawnInFlight && s.pid === null;
}

function hasDependencies(config: ServiceConfig): boolean {
  for (const _ in config.dependsOn) return true;
  return false;
}

/** Reverse start order, each service with the services that depend on it. */
function stopPlan(order: readonly string[], runners: ReadonlyMap<string, ServiceRunner>): { name: string; dependants: string[] }[] {
  const dependants = new Map<string, string[]>();
  for (const name of order) {
    const config = runners.get(name)?.config;
    if (!config) continue;
    for (const dep in config.dependsOn) {
      const list = dependants.get(dep);
      if (list) list.push(name);
      else dependants.set(dep, [name]);
    }
  }
  return [...order].reverse().map((name) => ({ name, dependants: dependants.get(name) ?? [] }));
}

function isIdle(s: ServiceStatus): boolean {
  if (s.pid !== null || s.spawnInFlight) return false;
  return s.state === "stopped" || s.state === "exited" || s.state === "fatal";
}
