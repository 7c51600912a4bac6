import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Clock } from "../core/clock.js";
import type { Manifest } from "../manifest/types.js";
import { startControlServer, type ControlServer } from "./control-server.js";
import { controlHandler, type ReloadOutcome } from "./control-handler.js";
import { describePlan, planIsEmpty, planReload } from "../core/reload-plan.js";
import { loadManifest } from "../manifest/load.js";
import { ManifestError, RELOAD_SHOWN_ISSUES } from "../manifest/errors.js";
import { heartbeatIdleMs, startHeartbeatServer, type HeartbeatServer } from "./heartbeat-server.js";
import { acquireLock, type Lock } from "./lock.js";
import { createLogger, type Logger } from "./logger.js";
import { ChildRegistry, reapOrphans } from "./orphans.js";
import { FdBudget } from "./fd-budget.js";
import { describeError, problemKind, Problems } from "./problems.js";
import { prepareStateDir, removeLeftoverTemps } from "./state-dir.js";
import { throttledLogger } from "./throttled-logger.js";
import { createPrinter, type Printer } from "./printer.js";
import { readProcStat } from "./proc.js";
import { realClock } from "./real-clock.js";
import { describeReject, RejectLog } from "./reject-log.js";
import { AtomicJsonWriter } from "./status-writer.js";
import { renderStatusJson } from "./status-render.js";
import { Supervisor } from "./supervisor.js";
import type { HttpApi } from "./http/server.js";
import { supervisorBackend } from "./http/supervisor-backend.js";
import { ManifestWatcher } from "./manifest-watcher.js";
import { ResourceMonitor, type ResourceSettings } from "./resources/resource-monitor.js";
import type { EventSink } from "./events/event.js";
import { createEventSinks } from "./events/index.js";
import { teeLogger } from "./events/tee-logger.js";
import { killCgroupTree, openCgroupRoot, type CgroupRoot } from "./process/cgroup.js";
import { ProcScanner } from "./process/proc-snapshot.js";
import { StrayReaper } from "./process/stray-reaper.js";

/** status.json is rewritten on every change, but not more often than this */
const STATUS_MIN_INTERVAL_MS = 100;

export interface StackOptions {
  readonly clock?: Clock;
  /** the supervisor's own log; default: STATE_DIR/vigil.log only */
  readonly logger?: Logger;
  /** children's output; default: none (still in STATE_DIR/logs) */
  readonly printer?: Printer;
  /** follow edits of the manifest and its env files (default true) */
  readonly watch?: boolean;
}

/**
 * One supervised stack with everything around the supervisor loop: the state directory and its lock,
 * orphans of a killed predecessor, the control and heartbeat sockets, status.json and the record of
 * running children. `vigil up` and the library API both run a stack through this.
 */
export class StackRuntime {
  readonly supervisor: Supervisor;
  readonly logger: Logger;
  private readonly ownsLogger: boolean;
  private readonly registry: ChildRegistry;
  private readonly statusFile: AtomicJsonWriter;
  private control: ControlServer | null = null;
  private heartbeat: HeartbeatServer | null = null;
  private http: HttpApi | null = null;
  private watcher: ManifestWatcher | null = null;
  private resources: ResourceMonitor | null = null;
  private readonly watch: boolean;
  /** registered at construction, so that no "stopped" can pass unheard */
  private readonly torndown: Promise<void>;
  private reloading: Promise<void> = Promise.resolve();
  private sinks: EventSink[];
  private readonly clock: Clock;
  private readonly baseLogger: Logger;
  private lastRejected: string | null = null;
  private readonly cgroups: CgroupRoot | null;
  private readonly strays: StrayReaper;
  /** what is wrong with the state files and descriptors: supervisor.problems */
  private readonly problems: Problems;
  private readonly fds = new FdBudget();
  private stopFdWatch: (() => void) | null = null;

  private constructor(
    public manifest: Manifest,
    private readonly lock: Lock,
    opts: StackOptions,
  ) {
    const clock = opts.clock ?? realClock;
    this.watch = opts.watch ?? true;
    this.ownsLogger = opts.logger === undefined;
    const base = opts.logger ?? createLogger({ file: join(manifest.stateDir, "vigil.log"), stderr: null, color: false });
    this.clock = clock;
    this.baseLogger = base;
    this.logger = teeLogger(base, () => this.sinks, clock);
    this.problems = new Problems({ stateDir: manifest.stateDir, clock, logger: this.logger, changed: () => this.statusFile.markDirty() });
    base.reportFileTo?.(this.problems.writes("vigil.log"));
    this.sinks = createEventSinks(manifest, base, clock, this.problems.writes("events.jsonl"));
    this.registry = new ChildRegistry(manifest.stateDir, this.problems.writes("children.json"));
    const scanner = new ProcScanner();
    const cgroups = openCgroupRoot();
    this.cgroups = cgroups.root;
    this.logger.log("debug", null, "jobs", cgroups.root ? `each service's processes in a cgroup under ${cgroups.root.dir}` : `no cgroups (${cgroups.reason}): jobs tracked through /proc`);
    this.strays = new StrayReaper(clock, scanner, ({ service, pid, command }) =>
      this.logger.log("warn", service, "job-escaped", `pid ${pid} (${command}) escaped its job and outlived it; killed it. A daemon must run in the foreground to be supervised`, { pid }),
    );
    this.supervisor = new Supervisor(manifest, {
      childEnv: { VIGIL_SOCKET: join(manifest.stateDir, "heartbeat.sock"), PATH: childPath() },
      clock,
      jobs: { scanner, cgroups: cgroups.root, strays: this.strays },
      logger: this.logger,
      printer: opts.printer ?? createPrinter(null, false),
      // one problem for every service's log: a full disk fails them all alike
      logFiles: { report: this.problems.writes("logs"), fds: this.fds },
      admitSpawn: (config) => this.fds.admitSpawn(config),
    });
    this.supervisor.problems = this.problems;
    this.statusFile = new AtomicJsonWriter(
      join(manifest.stateDir, "status.json"),
      () => renderStatusJson(this.supervisor, { lines: true }),
      STATUS_MIN_INTERVAL_MS,
      this.problems.writes("status.json"),
    );
    this.torndown = new Promise<void>((resolve) => this.supervisor.once("stopped", resolve)).then(() => this.teardown());
    this.wire(clock);
  }

  /**
   * Prepares the state directory and takes its lock: StateDirError when the directory, or a file in it,
   * is not the running user's own (or is a symbolic link), LockError when another supervisor holds it.
   */
  static async open(manifest: Manifest, opts: StackOptions = {}): Promise<StackRuntime> {
    await prepareStateDir(manifest.stateDir);
    const lock = await acquireLock(manifest.stateDir);
    await removeLeftoverTemps(manifest.stateDir);
    return new StackRuntime(manifest, lock, opts);
  }

  /** Ends what a killed predecessor left, opens the sockets, then starts every service in order. */
  async start(): Promise<void> {
    const { manifest, logger, supervisor } = this;
    // a socket out of descriptors fails every connection it is offered: one line per kind in 5 s
    const serverLogger = throttledLogger(logger, this.clock);
    const reaped = await reapOrphans(manifest.stateDir, (msg) => logger.log("warn", null, "orphans", msg));
    for (const r of reaped) {
      if (r.outcome === "exited" || r.outcome === "killed") {
        logger.log("warn", r.service, "orphan-ended", `ended pid ${r.pid} left behind by a supervisor that died (${r.outcome})`);
      }
    }
    this.heartbeat = await startHeartbeatServer(
      join(manifest.stateDir, "heartbeat.sock"),
      (message) => {
        const rejected = supervisor.heartbeats.fromSocket(message);
        // one beat among thousands a second: a status rewrite within a second is enough, no event
        if (!rejected) this.statusFile.markStale(1000);
        return rejected;
      },
      (kind, service) => {
        supervisor.countRejected(service);
        supervisor.emit("rejected", kind, service);
      },
      serverLogger,
      { clock: this.clock, idleMs: () => heartbeatIdleMs(this.manifest.services.flatMap((c) => (c.heartbeat ? [c.heartbeat.intervalMs] : []))) },
    );
    this.control = await startControlServer(join(manifest.stateDir, "control.sock"), controlHandler(supervisor, () => this.reload()), serverLogger, { clock: this.clock });
    const heartbeat = this.heartbeat;
    const control = this.control;
    supervisor.connections = () => ({ heartbeat: heartbeat.stats(), control: control.stats(), http: this.http?.stats() ?? null });
    this.resources = new ResourceMonitor(supervisor, this.clock, logger, resourceSettings(manifest), this.fds);
    supervisor.resources = this.resources;
    this.resources.start();
    if (manifest.http) this.http = await startHttp(manifest.http, supervisorBackend(supervisor), serverLogger);
    if (this.watch) {
      this.watcher = new ManifestWatcher({
        manifest: manifest.file,
        extraFiles: () => this.manifest.services.flatMap((c) => (c.envFile ? [c.envFile] : [])),
        onChange: () => {
          logger.log("info", null, "manifest-changed", "the manifest changed on disk; reloading");
          void this.reload();
        },
        onError: (err) => serverLogger.log("error", null, "watch-error", `watching the manifest: ${err.message}`),
        onStopped: (err) =>
          this.problems.raise(
            "manifest-watch",
            problemKind(err),
            `cannot watch the manifest: ${describeError(err)}; edits are not applied until it resumes (vigil reload applies them now)`,
            "the manifest is watched again",
          ),
        onResumed: () => this.problems.clear("manifest-watch"),
      });
      await this.watcher.start();
    }
    // what vigil holds itself, now that its sockets are open, against what the services will need
    this.fds.measureOwn();
    this.planFds(manifest);
    this.stopFdWatch = this.fds.watchUsage(this.clock, {
      exhausted: (message) => this.problems.raise("fds", "fds", message, "file descriptors are free again"),
      relieved: () => this.problems.clear("fds"),
    });
    logger.log("info", null, "up", `supervising ${manifest.services.length} services from ${manifest.file} (pid ${process.pid})`);
    supervisor.start();
    this.statusFile.markDirty();
  }

  /** Stops every service (dependants first) and closes everything; resolves when all is gone. */
  shutdown(): Promise<void> {
    void this.supervisor.shutdown();
    return this.stopped();
  }

  /** Resolves once the stack has stopped, whoever asked for it (a signal, `vigil down`, shutdown()). */
  stopped(): Promise<void> {
    return this.torndown;
  }

  /**
   * Re-reads the manifest and applies what changed as one new generation. A bad edit changes nothing:
   * the running generation stays, and config_error says why (logged once per bad version).
   */
  reload(): Promise<ReloadOutcome> {
    // one reload at a time; a request during one waits for it and then reads the file again
    const next = this.reloading.then(() => this.reloadNow());
    this.reloading = next.then(() => undefined, () => undefined);
    return next;
  }

  private async reloadNow(): Promise<ReloadOutcome> {
    const { supervisor, logger } = this;
    if (supervisor.isShuttingDown) return { ok: false, error: "the supervisor is shutting down" };
    let next: Manifest;
    try {
      next = await loadManifest(this.manifest.file);
    } catch (err) {
      const error = err instanceof ManifestError ? err.format(RELOAD_SHOWN_ISSUES) : `${this.manifest.file}: ${(err as Error).message}`;
      return this.reject(error);
    }
    const plan = planReload(this.manifest, next);
    const alertsChanged = JSON.stringify(this.manifest.alerts) !== JSON.stringify(next.alerts);
    if (plan.stateDirChanged) {
      return this.reject(`${this.manifest.file}: state_dir cannot change while vigil runs; stop it and start it again`);
    }
    this.lastRejected = null;
    if (alertsChanged) this.replaceSinks(next);
    if (planIsEmpty(plan)) {
      if (alertsChanged) {
        this.manifest = next;
        supervisor.generation++;
        logger.log("info", null, "config-applied", `generation ${supervisor.generation}: alerts`, { generation: supervisor.generation });
        supervisor.configError = null;
        this.statusFile.markDirty();
        return { ok: true, generation: supervisor.generation, changes: ["alerts: changed"] };
      }
      supervisor.configError = null;
      this.statusFile.markDirty();
      return { ok: true, generation: supervisor.generation, changes: [] };
    }
    const previous = this.manifest;
    // before the new services spawn, which the plan for descriptors decides on
    this.planFds(next);
    supervisor.applyReload(next, plan);
    this.manifest = next;
    await this.watcher?.refresh();
    if (plan.httpChanged) await this.restartHttp(previous, next);
    this.resources?.configure(resourceSettings(next));
    const changes = [...describePlan(plan), ...(alertsChanged ? ["alerts: changed"] : [])];
    logger.log("info", null, "config-applied", `generation ${supervisor.generation}: ${changes.join("; ")}`, { generation: supervisor.generation });
    this.statusFile.markDirty();
    return { ok: true, generation: supervisor.generation, changes };
  }

  /** Whether the open-file limit leaves enough for the services; said once when it does not. */
  private planFds(manifest: Manifest): void {
    const warning = this.fds.plan(manifest.services);
    if (warning !== null) this.logger.log("warn", null, "fd-limit", warning, { limit: this.fds.limitFds });
  }

  /** New alert rules: the old sinks deliver what they hold, new ones take the events from now on. */
  private replaceSinks(next: Manifest): void {
    const old = this.sinks;
    this.sinks = createEventSinks(next, this.baseLogger, this.clock, this.problems.writes("events.jsonl"));
    for (const sink of old) void sink.close().catch(() => undefined);
  }

  private async restartHttp(previous: Manifest, next: Manifest): Promise<void> {
    await this.http?.close();
    this.http = null;
    if (!next.http) return;
    try {
      this.http = await startHttp(next.http, supervisorBackend(this.supervisor), throttledLogger(this.logger, this.clock));
    } catch (err) {
      const was = previous.http ? `${previous.http.host}:${previous.http.port}` : "off";
      this.logger.log("error", null, "http-error", `cannot move the HTTP API (was ${was}): ${(err as Error).message}`);
    }
  }

  private reject(error: string): ReloadOutcome {
    this.supervisor.configError = error;
    if (this.lastRejected !== error) {
      this.logger.log("error", null, "config-rejected", `manifest not applied, the running configuration stays:\n${error}`);
      this.lastRejected = error;
    }
    this.statusFile.markDirty();
    return { ok: false, error };
  }

  /** For a crash: SIGKILL every child's job at once, synchronously. */
  killAllNow(): void {
    for (const r of this.supervisor.runners.values()) r.dispatch({ type: "KillRequested" });
    if (this.cgroups) killCgroupTree(this.cgroups.dir);
  }

  private async teardown(): Promise<void> {
    this.stopFdWatch?.();
    this.resources?.stop();
    await this.watcher?.close();
    await this.control?.close();
    await this.http?.close();
    await this.heartbeat?.close();
    await this.supervisor.close();
    await this.strays.finish();
    this.cgroups?.close();
    this.statusFile.markDirty();
    await this.statusFile.settle();
    await this.registry.clear();
    this.logger.log("info", null, "down", "all services stopped");
    await Promise.all(this.sinks.map((sink) => sink.close().catch(() => undefined)));
    // a logger of its own ends with the stack (a library user's process goes on)
    if (this.ownsLogger) await (this.baseLogger.close?.() ?? this.logger.flush());
    await this.lock.release();
  }

  private wire(clock: Clock): void {
    const { supervisor, statusFile, registry } = this;
    const rejects = new RejectLog(clock, this.logger);
    supervisor.on("change", () => statusFile.markDirty());
    supervisor.on("healthChanged", () => statusFile.markDirty());
    supervisor.on("health", () => statusFile.markStale(1000));
    supervisor.on("rejected", (kind, service) => {
      rejects.report(kind, service, describeReject(kind));
      statusFile.markStale(1000);
    });
    // Children are recorded a turn after their spawn, in a batch: /proc/PID/stat of a process that is
    // still finishing its exec reads several times slower, and a restart need not wait for it.
    const spawned = new Map<number, { readonly name: string; readonly token: string }>();
    const record = (): void => {
      for (const [pid, { name, token }] of spawned) {
        const stat = readProcStat(pid);
        const config = supervisor.runners.get(name)?.config;
        if (!stat || !config) continue;
        registry.add({ service: name, pid, pgid: pid, startTime: stat.startTime, stopSignal: config.stop.signal, stopTimeoutMs: config.stop.timeoutMs, token });
      }
      spawned.clear();
    };
    supervisor.on("spawned", (name, pid) => {
      if (spawned.size === 0) setImmediate(record);
      // the token is the one of this spawn only now: a restart in the same turn brings a new one
      spawned.set(pid, { name, token: supervisor.runners.get(name)?.token ?? "" });
    });
    supervisor.on("exited", (_name, pid) => {
      // gone before it was recorded: never read the stat of a pid that may be someone else's by now
      if (!spawned.delete(pid)) registry.remove(pid);
    });
  }
}

/** The HTTP API and its metrics (prom-client, 3 MiB of heap) are loaded only for a stack that serves them. */
async function startHttp(...args: Parameters<typeof import("./http/server.js").startHttpApi>): Promise<HttpApi> {
  const { startHttpApi } = await import("./http/server.js");
  return startHttpApi(...args);
}

function resourceSettings(m: Manifest): ResourceSettings {
  return { intervalMs: m.resources.intervalMs, disk: m.checks.disk, stateDir: m.stateDir };
}

/** Children find `vigil beat` on their PATH, after whatever `vigil` they may have of their own. */
function childPath(): string {
  const bin = fileURLToPath(new URL("../../bin", import.meta.url));
  const path = process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin";
  return `${path}${delimiter}${bin}`;
}
