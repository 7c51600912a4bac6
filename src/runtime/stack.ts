// One supervised stack: the loop and the adapters around it, wired. Opens the state directory (its lock),
// ends what a killed predecessor left, opens the sockets, and turns every effect of the loop into the
// adapter that carries it out. `vigil up` and the library API both run a stack through this.
import { ServiceWatchers } from "./watch/service-watchers.js";
import { ServiceSchedules } from "./schedule/service-schedules.js";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Clock } from "../core/clock.js";
import type { CommandAnswer, StackCommand } from "../core/stack/commands.js";
import type { Input } from "../core/stack/inputs.js";
import type { SpawnSpec } from "../core/stack/effects.js";
import type { InstanceId } from "../core/stack/ids.js";
import { NotifySockets } from "./notify/notify-sockets.js";
import { SystemdNotifier, type ManagerEnv } from "./notify/systemd-notifier.js";
import { summary } from "../core/stack/announce.js";
import { initialState, type StackState } from "../core/stack/state.js";
import type { Manifest } from "../manifest/types.js";
import { ManifestError, RELOAD_SHOWN_ISSUES } from "../manifest/errors.js";
import { DOT_ENV, loadManifest } from "../manifest/load.js";
import { acquireLock, type Lock } from "./state/lock.js";
import { createLogger, type Logger } from "./outputs/logger.js";
import { Loop, type Adapters } from "./loop.js";
import { ManifestWatcher } from "./manifest-watcher.js";
import { ChildRegistry, reapOrphans } from "./process/orphans.js";
import { EventBus } from "./outputs/bus.js";
import { createEventSinks, type EventSinks } from "./outputs/sinks.js";
import { newAlertTotals, type AlertCounters } from "./outputs/alerts/dispatcher.js";
import { StatusRenderer } from "./outputs/status-render.js";
import { createPrinter, type Printer } from "./outputs/printer.js";
import { OutputTap } from "./outputs/output-tap.js";
import { killCgroupTree, openCgroupRoot, type CgroupRoot } from "./process/cgroup.js";
import { ProcScanner } from "./process/proc-snapshot.js";
import { processes } from "./process/table.js";
import { Spawner } from "./process/spawner.js";
import { ListenSockets } from "./sockets/listen-sockets.js";
import { StrayReaper } from "./process/stray-reaper.js";
import { ProbeRunner } from "./probes/run-probe.js";
import { realClock } from "./real-clock.js";
import { Replies } from "./replies.js";
import { fullPaceFor, Sampling, SWEEP_STALL_MS, type SamplingSettings } from "./resources/sampling.js";
import { AtomicJsonWriter } from "./outputs/status-writer.js";
import { LoopLag } from "./loop-lag.js";
import { FdBudget } from "./state/fd-budget.js";
import { describeError, problemKind, Problems } from "./state/problems.js";
import { prepareStateDir, removeLeftoverTemps } from "./state/state-dir.js";
import { throttledLogger } from "./outputs/throttled-logger.js";
import { startControlServer, type ControlServer } from "./transports/control-socket.js";
import { controlHandler } from "./transports/control-handler.js";
import { heartbeatIdleMs, startHeartbeatServer, type HeartbeatServer } from "./transports/heartbeat-socket.js";
import { parseChildMessage } from "../core/heartbeat-message.js";
import type { HttpApi } from "./http/server.js";
import { stackBackend } from "./http/stack-backend.js";
import { Adopter } from "./adopt/adopter.js";
import { ActionRunner } from "./actions/run-action.js";
import { nextPingDueWallMs } from "./ping/ping-times.js";
import { takeOutsideBeat } from "./ping/intake.js";
import { nudgeReaper } from "./process/reap-nudge.js";
import { nativeSpawn } from "./process/native-spawn.js";
import { driftDelayMs } from "./outputs/status-writer.js";

/** status.json is rewritten on every event, but not more often than this */
const STATUS_MIN_INTERVAL_MS = 100;

export interface StackOptions {
  readonly clock?: Clock;
  /** the supervisor's own log; default: STATE_DIR/vigil.log only */
  readonly logger?: Logger;
  /** children's output; default: none (still in STATE_DIR/logs) */
  readonly printer?: Printer;
  /** follow edits of the manifest and its env files (default true) */
  readonly watch?: boolean;
  /** uniform draws in [0, 1) for backoff jitter */
  readonly random?: () => number;
  /** the environment a service manager started `vigil up` with (NOTIFY_SOCKET, WATCHDOG_*); default: none is told */
  readonly manager?: ManagerEnv;
  /**
   * nothing changes process.env while the stack runs (`vigil up`), so the children's copy of it is made
   * once; default false: a program using the library may set a variable between two spawns
   */
  readonly envFixed?: boolean;
}

export class Stack {
  readonly loop: Loop;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly renderer: StatusRenderer;
  readonly replies = new Replies();
  /** children's output as it is captured, for the dashboard */
  readonly output = new OutputTap();
  /** told status.json's text each time it is rendered (the dashboard's pages get it as it is) */
  private readonly statusListeners = new Set<(json: string) => void>();
  readonly spawner: Spawner;
  /** `adopt:` services: found, not spawned */
  readonly adopter: Adopter;
  private readonly actions: ActionRunner;
  private readonly probes: ProbeRunner;
  private readonly notify: NotifySockets;
  /** the listening sockets of `sockets:`, held across restarts */
  private readonly sockets = new ListenSockets();
  /** systemd above `vigil up`, when it listens */
  private readonly systemd: SystemdNotifier | null;
  readonly sampling: Sampling;
  private readonly ownsLogger: boolean;
  private readonly registry: ChildRegistry;
  private readonly statusFile: AtomicJsonWriter;
  private readonly loopLag: LoopLag;
  private readonly cgroups: CgroupRoot | null;
  private readonly strays: StrayReaper;
  /** the heartbeat socket's idle limit, worked out once per manifest (it is asked on every connection) */
  private idle: { readonly manifest: Manifest; readonly ms: number } | null = null;
  private readonly clock: Clock;
  /** what is wrong with the state files and descriptors: supervisor.problems */
  private readonly problems: Problems;
  private readonly fds = new FdBudget();
  private stopFdWatch: (() => void) | null = null;
  private sinks: EventSinks;
  private readonly alertTotals = newAlertTotals();
  private control: ControlServer | null = null;
  private heartbeat: HeartbeatServer | null = null;
  private http: HttpApi | null = null;
  private watcher: ManifestWatcher | null = null;
  private loading: Promise<void> = Promise.resolve();
  private readonly serviceWatchers: ServiceWatchers;
  private readonly schedules: ServiceSchedules;
  private readonly torndown: Promise<void>;
  private stoppedNow!: () => void;

  private constructor(
    manifest: Manifest,
    private readonly lock: Lock,
    private readonly opts: StackOptions,
  ) {
    const clock = opts.clock ?? realClock;
    this.clock = clock;
    this.ownsLogger = opts.logger === undefined;
    this.logger = opts.logger ?? createLogger({ file: join(manifest.stateDir, "vigil.log"), stderr: null, color: false });
    const logger = this.logger;
    this.problems = new Problems({ stateDir: manifest.stateDir, clock, logger, changed: () => this.statusFile.markDirty() });
    logger.reportFileTo?.(this.problems.writes("vigil.log"));
    this.bus = new EventBus((err, event) => logger.log("error", null, "event-listener", `a listener of ${event.kind} failed: ${(err as Error)?.message ?? String(err)}`));
    this.loop = new Loop(initialState(manifest, clock.wallNow()), clock, this.adapters(), opts.random ?? Math.random);
    const post = (input: Input): void => this.loop.post(input);
    this.serviceWatchers = new ServiceWatchers(post, (service, err) =>
      throttledLogger(logger, clock).log("error", service, "watch-error", `watching files: ${err.message}`),
    );
    this.schedules = new ServiceSchedules(clock, post);
    this.notify = new NotifySockets(manifest.stateDir, post, throttledLogger(logger, clock));
    this.registry = new ChildRegistry(manifest.stateDir, this.problems.writes("children.json"));
    const scanner = new ProcScanner(processes());
    // cgroups are Linux's, and read through /proc: the portable backend tracks jobs by group, tree and token
    const cgroups = scanner.table.backend === "proc" ? openCgroupRoot() : { root: null, reason: "the portable process backend tracks jobs without them" };
    this.cgroups = cgroups.root;
    logger.log("debug", null, "jobs", cgroups.root ? `each instance's processes in a cgroup under ${cgroups.root.dir}` : `no cgroups (${cgroups.reason}): jobs tracked through the ${scanner.table.backend} process table`);
    this.strays = new StrayReaper(clock, scanner, ({ service: id, pid, command }) => post({ type: "JobNoticed", id, note: { kind: "escaped", pid, command } }), () => this.spawner.livePids());
    this.spawner = new Spawner({
      clock,
      post: (input) => {
        // a child's notify socket closes with it
        if (input.type === "ChildExited" || input.type === "SpawnFailed") this.notify.ended(input.id, input.incarnation);
        else if (input.type === "ChildSpawned") this.sampling.spawned();
        post(input);
      },
      printer: this.output.around(opts.printer ?? createPrinter(null, { color: false })),
      logsDir: join(manifest.stateDir, "logs"),
      childEnv: { VIGIL_SOCKET: join(manifest.stateDir, "heartbeat.sock"), PATH: childPath() },
      envFixed: opts.envFixed ?? false,
      jobs: { scanner, cgroups: cgroups.root, strays: this.strays },
      registry: this.registry,
      // one problem for every service's log: a full disk fails them all alike
      logFiles: { report: this.problems.writes("logs"), fds: this.fds },
      admitSpawn: (spec) => {
        const config = this.loop.state.services.get(spec.service)?.config;
        return config ? this.fds.admitSpawn(config) : null;
      },
    });
    const childEnv = { VIGIL_SOCKET: join(manifest.stateDir, "heartbeat.sock"), PATH: childPath() };
    this.adopter = new Adopter({
      clock,
      post,
      logsDir: join(manifest.stateDir, "logs"),
      childEnv,
      ownPids: () => this.spawner.livePids(),
      // a stop, a shutdown, or a reload that changed how it is found: let it go; a failure or `vigil restart` ends it
      holds: (id) => {
        const pending = this.loop.state.instances.get(id)?.status.pending;
        return this.loop.state.shuttingDown || pending?.then === "hold" || pending?.reason === "config";
      },
    });
    this.actions = new ActionRunner(post, childEnv);
    this.probes = new ProbeRunner(post);
    let unreapedSaid: ReadonlySet<number> = new Set();
    this.sampling = new Sampling(
      {
        clock,
        post,
        pids: () => {
          const pids = this.spawner.pids();
          for (const [id, pid] of this.adopter.pids()) pids.set(id, pid);
          return pids;
        },
        adopt: (id, pid, tree) => this.spawner.adopt(id, pid, tree),
        onError: (err) => logger.log("error", null, "sampling", `resource sampling failed: ${err.message}`),
        holdHandles: () => this.fds.holdFiles(),
        unreaped: (again) => {
          // a nudge costs nothing; a warning waits for a second sighting, and is said once a pid
          nudgeReaper();
          const fresh = again.filter((pid) => !unreapedSaid.has(pid));
          if (fresh.length > 0) logger.log("warn", null, "unreaped", `pid ${fresh.join(", ")} exited unheard (a lost SIGCHLD: a debugger attached to vigil?); looking again`);
          unreapedSaid = new Set(again);
        },
        stalled: () => {
          logger.log("warn", null, "sampling", `a resource sweep has taken over ${SWEEP_STALL_MS / 1000} s; looking for an exit unheard (a lost SIGCHLD?)`);
          nudgeReaper();
        },
      },
      samplingSettings(manifest),
    );
    this.loopLag = new LoopLag(clock);
    this.renderer = new StatusRenderer({
      state: () => this.loop.state,
      version: () => this.loop.inputs,
      clock,
      pid: process.pid,
      history: (id) => this.sampling.history(id),
      historyJson: (id, isoOf) => this.sampling.historyJson(id, isoOf),
      problems: () => this.problems.list(),
      loopLag: () => this.loopLag.doc(),
      sampling: () => this.sampling.pace(),
      connections: () =>
        this.heartbeat && this.control ? { heartbeat: this.heartbeat.stats(), control: this.control.stats(), http: this.http?.stats() ?? null } : null,
      processBackend: scanner.table.backend,
      spawn: nativeSpawn() ? "native" : "child_process",
    });
    this.statusFile = new AtomicJsonWriter(
      join(manifest.stateDir, "status.json"),
      async () => {
        const pieces = await this.renderer.linesPieces();
        // an open dashboard gets the text as written (one string only while a page listens)
        if (this.statusListeners.size > 0) {
          const json = pieces.join("");
          for (const listener of this.statusListeners) listener(json);
        }
        return pieces;
      },
      STATUS_MIN_INTERVAL_MS,
      this.problems.writes("status.json"),
    );
    this.systemd = opts.manager
      ? SystemdNotifier.fromEnv(opts.manager, process.pid, { clock, logger: throttledLogger(logger, clock), post, summary: () => summary(this.loop.state) })
      : null;
    this.loop.afterDrain = () => {
      // once per beat with 1,000 services beating: nothing to work out while a write is already due
      if (!this.statusFile.stalePending) this.statusFile.markStale(driftDelayMs(this.statusFile.writtenBytes, this.sampling.watched()));
      this.systemd?.changed();
    };
    this.sinks = createEventSinks(manifest, logger, clock, this.alertTotals, this.problems.writes("events.jsonl"));
    this.bus.subscribe((event) => {
      logger.log(event.level, event.instance ?? event.service, event.kind, event.message, event.fields);
      this.sinks.publish(event);
      this.statusFile.markDirty();
    });
    this.torndown = new Promise((resolve) => (this.stoppedNow = resolve));
  }

  /**
   * Prepares the state directory and takes its lock: StateDirError when the directory, or a file in it,
   * is not the running user's own (or is a symbolic link), LockError when another supervisor holds it.
   */
  static async open(manifest: Manifest, opts: StackOptions = {}): Promise<Stack> {
    await prepareStateDir(manifest.stateDir);
    const lock = await acquireLock(manifest.stateDir);
    await removeLeftoverTemps(manifest.stateDir);
    return new Stack(manifest, lock, opts);
  }

  get state(): StackState {
    return this.loop.state;
  }

  get manifest(): Manifest {
    return this.loop.state.manifest;
  }

  onStatusWritten(listener: (json: string) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** where the HTTP API listens, while it does */
  get httpAddress(): { readonly host: string; readonly port: number } | null {
    return this.http?.address ?? null;
  }

  /** Ends what a killed predecessor left, opens the sockets, then starts every service in order (or `only` those and their dependencies). */
  async start(only: readonly string[] = []): Promise<void> {
    const { manifest, logger } = this;
    // a socket out of descriptors fails every connection it is offered: one line per kind in 5 s
    const serverLogger = throttledLogger(logger, this.clock);
    const reaped = await reapOrphans(manifest.stateDir, (msg) => logger.log("warn", null, "orphans", msg));
    for (const r of reaped) {
      if (r.outcome === "exited" || r.outcome === "killed") {
        logger.log("warn", r.service, "orphan-ended", `ended pid ${r.pid} left behind by a supervisor that died (${r.outcome})`);
      }
    }
    const post = (input: Input): void => this.loop.post(input);
    this.heartbeat = await startHeartbeatServer(
      join(manifest.stateDir, "heartbeat.sock"),
      (value) => {
        // a socket's data never arrives inside a step, so the loop steps the line at once: whether it
        // refused it (and counted that) shows in its count of refusals. The socket counts a connection's
        // refused lines too (one that sends only those is closed).
        const message = parseChildMessage(value);
        // a ping of a `ping:` check, or a beat of a process without a service (heartbeat.unmanaged)
        const outside = message.ok ? takeOutsideBeat(this.loop.state, message.message, process.env) : null;
        if (outside?.ok) {
          post(outside.input);
          return "taken";
        }
        if (outside) {
          post({ type: "MessageRejected", kind: "bad-token", service: undefined });
          return "refused";
        }
        const refusedBefore = this.loop.state.rejectedTotal;
        post({ type: "MessageReceived", message });
        return this.loop.state.rejectedTotal === refusedBefore ? "taken" : "refused";
      },
      (kind, service) => post({ type: "MessageRejected", kind, service }),
      serverLogger,
      { clock: this.clock, idleMs: () => this.heartbeatIdleMs() },
    );
    this.control = await startControlServer(join(manifest.stateDir, "control.sock"), controlHandler(this), serverLogger, { clock: this.clock });
    this.sampling.start();
    if (manifest.http) this.http = await startHttp(manifest.http, stackBackend(this), serverLogger);
    if (this.opts.watch ?? true) {
      this.watcher = new ManifestWatcher({
        manifest: manifest.file,
        // the .env beside the manifest holds values of its ${VAR}s, whether or not it exists yet
        extraFiles: () => [join(dirname(this.manifest.file), DOT_ENV), ...this.manifest.services.flatMap((c) => (c.envFile ? [c.envFile] : []))],
        onChange: () => {
          logger.log("info", null, "manifest-changed", "the manifest changed on disk; reloading");
          this.load(null);
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
    await this.serviceWatchers.configure(manifest);
    this.systemd?.start();
    this.loopLag.start();
    post({ type: "Started", pid: process.pid, ...(only.length > 0 ? { only } : {}) });
    this.schedules.configure(manifest);
    this.statusFile.markDirty();
  }

  /** A command, answered when the loop has decided (at once for most; `reload` and `down` take longer). */
  command(command: StackCommand): Promise<CommandAnswer> {
    return new Promise((resolve) => {
      const replyTo = this.replies.open(resolve);
      this.loop.post({ type: "ControlRequested", replyTo, command });
    });
  }

  /** Stops every service (dependants first) and closes everything; resolves when all is gone. */
  shutdown(): Promise<void> {
    this.loop.post({ type: "ShutdownRequested", kill: false });
    return this.stopped();
  }

  /** Second Ctrl-C: SIGKILL every job now. */
  killAll(): void {
    this.loop.post({ type: "ShutdownRequested", kill: true });
  }

  /** For a crash: SIGKILL every child's job at once, synchronously. */
  killAllNow(): void {
    this.spawner.killAll();
    if (this.cgroups) killCgroupTree(this.cgroups.dir);
  }

  /** Re-reads the manifest (a change on disk, SIGHUP, `vigil reload`): applied, or kept out with config_error. */
  reload(): Promise<CommandAnswer> {
    return this.command({ cmd: "reload" });
  }

  /** This stack's alerts by outcome, across the dispatchers of its reloads. */
  alertCounters(): AlertCounters {
    return { ...this.alertTotals, inFlight: this.sinks.alerts?.inFlight ?? 0, queued: this.sinks.alerts?.queued ?? 0 };
  }

  /** Resolves once the stack has stopped and closed, whoever asked for it. */
  stopped(): Promise<void> {
    return this.torndown;
  }

  /** Where the loop's effects go. */
  private adapters(): Adapters {
    return {
      spawn: (id, incarnation, spec) => this.spawn(id, incarnation, spec),
      signal: (id, incarnation, signal) => (this.adopter.owns(id) ? this.adopter.signal(id, incarnation, signal) : this.spawner.signal(id, incarnation, signal)),
      kill: (id, incarnation) => (this.adopter.owns(id) ? this.adopter.kill(id, incarnation) : this.spawner.kill(id, incarnation)),
      runProbe: (probe) => this.probes.run(probe, this.spawner.envOf(probe.id)),
      publish: (event) => this.bus.publish(event),
      reply: (to, answer) => this.replies.answer(to, answer),
      loadManifest: (replyTo) => this.load(replyTo),
      reconfigure: (next, previous) => void this.reconfigure(next, previous),
      forget: (id) => {
        this.adopter.forget(id);
        this.spawner.forget(id);
        this.notify.forget(id);
        this.sampling.forget(id);
      },
      stopped: () => void this.teardown(),
      announce: (what) => this.systemd?.announce(what),
      armPing: ({ name, config, seq, fromWallMs }) => this.loop.post({ type: "PingArmed", name, seq, dueWallMs: nextPingDueWallMs(config, fromWallMs) }),
      runAction: (effect) => this.actions.run(effect),
    };
  }

  /**
   * A child of a service with `sockets:` gets them from fd 3 on (bound now if new or moved); one of a
   * `via: notify` service gets a datagram socket of its own as NOTIFY_SOCKET.
   */
  private spawn(id: InstanceId, incarnation: number, spec: SpawnSpec): void {
    // as a failed spawn is: on a later turn, then by the restart policy
    if (spec.adopt) return this.adopter.spawn(id, incarnation, spec);
    const fail = (error: string): void => queueMicrotask(() => this.loop.post({ type: "SpawnFailed", id, incarnation, error }));
    const sockets = spec.sockets.length === 0 ? null : this.sockets.fdsFor(spec.service, spec.sockets);
    if (sockets && !sockets.ok) return fail(sockets.error);
    const fds = sockets?.fds ?? [];
    if (!spec.notify) return this.spawner.spawn(id, incarnation, spec, fds);
    const opened = this.notify.open(id, incarnation, spec.service);
    if (!opened.ok) return fail(opened.error);
    this.spawner.spawn(id, incarnation, { ...spec, env: { ...spec.env, NOTIFY_SOCKET: opened.path } }, fds);
  }

  /** Reads the manifest again, one read at a time, and tells the loop what it found. */
  private load(replyTo: number | null): void {
    const file = this.manifest.file;
    this.loading = this.loading.then(async () => {
      try {
        const manifest = await loadManifest(file);
        // before the new services spawn, which the plan for descriptors decides on
        if (!this.loop.state.shuttingDown) this.planFds(manifest);
        this.loop.post({ type: "ManifestLoaded", manifest, replyTo });
      } catch (err) {
        const error = err instanceof ManifestError ? err.format(RELOAD_SHOWN_ISSUES) : `${file}: ${(err as Error).message}`;
        const missing = (err as { cause?: { code?: unknown } }).cause?.code === "ENOENT";
        this.loop.post({ type: "ManifestRejected", error, replyTo, ...(missing ? { missing } : {}) });
      }
    });
  }

  /** Whether the open-file limit leaves enough for the services; said once when it does not. */
  private heartbeatIdleMs(): number {
    const manifest = this.manifest;
    if (this.idle?.manifest !== manifest) {
      this.idle = { manifest, ms: heartbeatIdleMs(manifest.services.flatMap((c) => (c.heartbeat ? [c.heartbeat.intervalMs] : []))) };
    }
    return this.idle.ms;
  }

  private planFds(manifest: Manifest): void {
    const warning = this.fds.plan(manifest.services);
    if (warning !== null) this.logger.log("warn", null, "fd-limit", warning, { limit: this.fds.limitFds });
  }

  /** A new generation: the adapters that follow the manifest take it. */
  private async reconfigure(next: Manifest, previous: Manifest): Promise<void> {
    this.sockets.retain(next);
    if (JSON.stringify(next.alerts) !== JSON.stringify(previous.alerts)) {
      const old = this.sinks;
      this.sinks = createEventSinks(next, this.logger, this.clock, this.alertTotals, this.problems.writes("events.jsonl"));
      void old.close();
    }
    this.sampling.configure(samplingSettings(next));
    await this.watcher?.refresh();
    await this.serviceWatchers.configure(next);
    this.schedules.configure(next);
    if (JSON.stringify(next.http) !== JSON.stringify(previous.http)) await this.restartHttp(previous, next);
  }

  private async restartHttp(previous: Manifest, next: Manifest): Promise<void> {
    await this.http?.close();
    this.http = null;
    if (!next.http) return;
    try {
      this.http = await startHttp(next.http, stackBackend(this), throttledLogger(this.logger, this.clock));
    } catch (err) {
      const was = previous.http ? `${previous.http.host}:${previous.http.port}` : "off";
      this.logger.log("error", null, "http-error", `cannot move the HTTP API (was ${was}): ${(err as Error).message}`);
    }
  }

  private async teardown(): Promise<void> {
    this.stopFdWatch?.();
    this.adopter.close();
    this.actions.close();
    this.probes.close();
    this.sampling.stop();
    this.loop.close();
    this.loopLag.stop();
    await this.watcher?.close();
    await this.serviceWatchers.close();
    this.schedules.close();
    await this.control?.close();
    await this.http?.close();
    await this.heartbeat?.close();
    await this.strays.finish();
    this.cgroups?.close();
    await this.spawner.close();
    this.notify.close();
    this.sockets.close();
    this.statusFile.markDirty();
    await this.statusFile.settle();
    await this.registry.clear();
    await this.sinks.close();
    // a logger of its own ends with the stack (a library user's process goes on)
    if (this.ownsLogger) await (this.logger.close?.() ?? this.logger.flush());
    await this.lock.release();
    this.systemd?.close();
    this.stoppedNow();
  }
}

/** The HTTP API and its metrics (prom-client, 3 MiB of heap) are loaded only for a stack that serves them. */
async function startHttp(...args: Parameters<typeof import("./http/server.js").startHttpApi>): Promise<HttpApi> {
  const { startHttpApi } = await import("./http/server.js");
  return startHttpApi(...args);
}

function samplingSettings(m: Manifest): SamplingSettings {
  return { intervalMs: m.resources.intervalMs, diskPath: m.checks.disk?.path ?? m.stateDir, fullPaceFor: fullPaceFor(m) };
}

/** Children find `vigil beat` on their PATH, after whatever `vigil` they may have of their own. */
function childPath(): string {
  const bin = fileURLToPath(new URL("../../bin", import.meta.url));
  const path = process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin";
  return `${path}${delimiter}${bin}`;
}
