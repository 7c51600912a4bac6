// The resolved, validated manifest: what the rest of vigil consumes. Readonly, durations in ms,
// sizes in bytes, paths absolute. Runtime state lives elsewhere (core/stack/state.ts).
import type { SignalName } from "../core/types.js";

export type RestartPolicy = "always" | "on-failure" | "never";
/** stop-first: the old child ends, then the new one starts; start-first: the old ends once the new is ready */
export type RestartMode = "stop-first" | "start-first";
export type DependencyCondition = "started" | "healthy" | "completed";
export type HeartbeatTransport = "ipc" | "socket" | "notify";
/** always: beats are required while the child runs; busy: only while it has a task open */
export type HeartbeatWhen = "always" | "busy";
export type TaskTimeoutAction = "restart" | "alert";

export interface BackoffConfig {
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  /** 0..1: the delay is spread uniformly over ±jitter of itself */
  readonly jitter: number;
  /** a child that ran at least this long starts the backoff sequence anew */
  readonly resetAfterMs: number;
}

export interface RestartConfig {
  readonly policy: RestartPolicy;
  readonly backoff: BackoffConfig;
  /** more than this many restarts inside windowMs => fatal */
  readonly maxRestarts: number;
  readonly windowMs: number;
  readonly mode: RestartMode;
  /** start-first: how long a new child may take to become ready */
  readonly readyTimeoutMs: number;
}

/** A listening socket vigil holds for a service (SPEC §6.2). */
export interface SocketConfig {
  /** the key in `sockets:`, passed in LISTEN_FDNAMES */
  readonly name: string;
  readonly address: SocketAddress;
  /** unix sockets: the file's mode, e.g. 0o660; null leaves the default */
  readonly mode: number | null;
  /** unix sockets: "user" or "user:group" (names or numbers); null leaves vigil's own */
  readonly owner: string | null;
}

export type SocketAddress =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  /** path is absolute */
  | { readonly kind: "unix"; readonly path: string };

export interface StopConfig {
  readonly signal: SignalName;
  readonly timeoutMs: number;
}

export type OverlapPolicy = "skip" | "queue" | "replace";

/** `schedule:` run the service as a job at the times of a cron expression */
export interface ScheduleConfig {
  /** as written: 5 fields, or 6 with seconds first */
  readonly cron: string;
  /** IANA name; null: the supervisor's own time zone */
  readonly timezone: string | null;
  readonly runOnStart: boolean;
  /** a tick while a run is still going: skip it, queue one more run, or stop the running one and start anew */
  readonly overlap: OverlapPolicy;
}

/** `watch:` restart the service when files change */
export interface WatchConfig {
  /** absolute */
  readonly paths: readonly string[];
  /** names and globs, as written; globs relative to `cwd` */
  readonly ignore: readonly string[];
  readonly debounceMs: number;
  /** more watch restarts than this within windowMs: a loop, watching is paused */
  readonly maxRestarts: number;
  readonly windowMs: number;
}

export interface HeartbeatConfig {
  readonly via: HeartbeatTransport;
  readonly intervalMs: number;
  readonly misses: number;
  readonly startupGraceMs: number;
  /** a static token from this environment variable (adopted processes); null: a new token per spawn */
  readonly tokenEnv: string | null;
  readonly when: HeartbeatWhen;
  /** beats kept per instance for history queries */
  readonly history: number;
}

/** `tasks:` deadlines of the tasks a child reports (start, progress, end) */
export interface TasksConfig {
  /** no start or progress for this long: one task-stale warning per task; null: not watched */
  readonly staleAfterMs: number | null;
  /** open longer than this: task-timeout; null: no timeout */
  readonly timeoutMs: number | null;
  readonly onTimeout: TaskTimeoutAction;
}

export interface LogsConfig {
  /** null: output staleness is not watched */
  readonly staleAfterMs: number | null;
  /** size at which STATE_DIR/logs/NAME.log is rotated */
  readonly maxBytes: number;
  /** rotated files kept: NAME.log.1 … NAME.log.N */
  readonly keep: number;
  /** absolute: with staleAfterMs, this file's growth is watched instead of the child's output */
  readonly file: string | null;
}

export interface LimitsConfig {
  readonly memoryBytes: number | null;
  /** percent of one core: 150 = one and a half cores */
  readonly cpuPercent: number | null;
  readonly forMs: number;
}

export type ProbeCheck =
  | { readonly kind: "http"; readonly url: string }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "exec"; readonly argv: readonly string[]; readonly shell: boolean };

export interface ProbeConfig {
  readonly check: ProbeCheck;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** consecutive failures before the probe counts as failed */
  readonly failures: number;
  readonly initialDelayMs: number;
}

export interface ServiceConfig {
  readonly name: string;
  /** as written in the manifest, for display */
  readonly command: string;
  /** what is executed: argv[0] is the program; with shell: ["/bin/sh", "-c", command] */
  readonly argv: readonly string[];
  readonly shell: boolean;
  /** absolute */
  readonly cwd: string;
  /** env_file values overlaid by env; the supervisor's own environment is added at spawn time */
  readonly env: Readonly<Record<string, string>>;
  /** absolute path, or null */
  readonly envFile: string | null;
  readonly dependsOn: Readonly<Record<string, DependencyCondition>>;
  readonly restart: RestartConfig;
  readonly stop: StopConfig;
  readonly heartbeat: HeartbeatConfig | null;
  readonly tasks: TasksConfig | null;
  readonly logs: LogsConfig;
  readonly limits: LimitsConfig | null;
  readonly probes: {
    readonly liveness: ProbeConfig | null;
    readonly readiness: ProbeConfig | null;
  };
  /** how many instances run (SPEC §6.1) */
  readonly replicas: number;
  /** listening sockets passed from fd 3 on, in manifest order */
  readonly sockets: readonly SocketConfig[];
  /** `disabled: true` or `autostart: false`: not started with the stack nor by a reload, only by `vigil start` */
  readonly disabled: boolean;
  readonly watch: WatchConfig | null;
  readonly schedule: ScheduleConfig | null;
  /** watched, not spawned: a process vigil did not start */
  readonly adopt: AdoptConfig | null;
  /** commands run on trouble, by kind */
  readonly actions: ActionsConfig;
}

/** `adopt:` how to find the process vigil watches but did not start */
export interface AdoptConfig {
  /** exactly one of pidfile (absolute) and match (a regular expression's source) is set */
  readonly pidfile: string | null;
  readonly match: string | null;
  readonly pollMs: number;
  readonly startTimeoutMs: number;
  /** release: stopping leaves the process running; signal: it is stopped by the service's stop rules */
  readonly onStop: "release" | "signal";
}

export type ActionKind = "degraded" | "critical" | "failed" | "limit" | "probe" | "task-timeout";

export interface ActionConfig {
  readonly argv: readonly string[];
  readonly shell: boolean;
  /** as written, for messages */
  readonly display: string;
  /** restart: the usual restart once the command is done; none: observe only */
  readonly then: "restart" | "none";
  readonly timeoutMs: number;
}

export type ActionsConfig = Readonly<Partial<Record<ActionKind, ActionConfig>>>;

/** A service with `ping:`: a check that expects pings, runs nothing (a dead man's switch). */
export interface PingConfig {
  readonly name: string;
  /** exactly one of everyMs and cron is set */
  readonly everyMs: number | null;
  readonly cron: string | null;
  readonly timezone: string | null;
  readonly graceMs: number;
  readonly tokenEnv: string | null;
}

/** The top-level `heartbeat:`: beats of processes without a service */
export interface UnmanagedConfig {
  readonly tokenEnv: string;
  readonly expireAfterMs: number;
  readonly max: number;
}

export interface LevelsConfig {
  readonly warnPercent: number;
  readonly criticalPercent: number;
}

export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  /** name of the environment variable that holds the bearer token; null: mutations are refused */
  readonly tokenEnv: string | null;
}

export interface DiskCheckConfig {
  /** absolute */
  readonly path: string;
  readonly warnPercent: number;
  readonly criticalPercent: number;
}

/** What an alert rule can be `on`; see core/alert-policy.ts for which events each one covers. */
export type AlertKind =
  | "failed"
  | "fatal"
  | "restart"
  | "degraded"
  | "critical"
  | "recovered"
  | "spawn-failed"
  | "rollover-failed"
  | "config-rejected"
  | "limit"
  | "disk"
  | "task-stale"
  | "task-timeout";

export type WebhookFormat = "json" | "slack";

/** Where an alert goes. Secrets (URLs with tokens, bot tokens) are named by environment variable. */
export type AlertTarget =
  /** exactly one of url and urlEnv is set */
  | { readonly kind: "webhook"; readonly url: string | null; readonly urlEnv: string | null; readonly format: WebhookFormat }
  | { readonly kind: "telegram"; readonly tokenEnv: string; readonly chatIdEnv: string; readonly apiUrl: string }
  /** cwd is absolute (the manifest's directory) */
  | { readonly kind: "command"; readonly argv: readonly string[]; readonly shell: boolean; readonly display: string; readonly cwd: string };

export interface AlertRule {
  readonly on: readonly AlertKind[];
  /** null: every service (and the supervisor's own events) */
  readonly services: readonly string[] | null;
  readonly target: AlertTarget;
  /** per (rule, service, kind): repeats inside it are folded into one later message */
  readonly cooldownMs: number;
  /** per attempt: a webhook request, or a command before it is killed */
  readonly timeoutMs: number;
  /** further attempts after a failed one */
  readonly retries: number;
  /** delay before the first retry; doubled for each further one */
  readonly retryBackoffMs: number;
}

export interface Manifest {
  readonly version: 1;
  /** absolute path of supervisor.yaml */
  readonly file: string;
  /** absolute */
  readonly stateDir: string;
  /** in declaration order */
  readonly services: readonly ServiceConfig[];
  readonly http: HttpConfig | null;
  /** `intervalSet`: resources.interval is written in the manifest (sampled at that pace whoever watches) */
  readonly resources: { readonly intervalMs: number; readonly intervalSet?: boolean };
  readonly checks: { readonly disk: DiskCheckConfig | null; readonly cpu?: LevelsConfig | null; readonly memory?: LevelsConfig | null };
  /** services with `ping:`, apart from the services that run */
  readonly pings?: readonly PingConfig[];
  /** `heartbeat: { unmanaged: true }`; null (or absent) when off */
  readonly unmanaged?: UnmanagedConfig | null;
  /** in declaration order; index + 1 is the rule's number in messages */
  readonly alerts: readonly AlertRule[];
}
