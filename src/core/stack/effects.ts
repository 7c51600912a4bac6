// What step() asks of the world. Adapters carry these out; what comes of them returns as inputs.
import type { AdoptConfig, ProbeConfig, Manifest, PingConfig, SocketConfig } from "../../manifest/types.js";
import type { SignalName } from "../types.js";
import type { DomainEvent } from "./domain-events.js";
import type { InstanceId } from "./ids.js";
import type { CommandAnswer } from "./commands.js";
import type { ReplyTo } from "./inputs.js";

export type TimerKind = "backoff" | "stop" | "heartbeat" | "output" | "probe:liveness" | "probe:readiness" | "ready" | "watch" | "task" | "ping" | "unmanaged";

/**
 * A timer belongs to one child (incarnation) of one instance: when it fires late for an older one, nothing
 * happens. A `watch` timer belongs to a service: its id is the service's name, its incarnation 0.
 */
export interface TimerKey {
  readonly id: InstanceId;
  readonly incarnation: number;
  readonly kind: TimerKind;
}

/** Everything the process adapter needs to start one child. */
export interface SpawnSpec {
  /** the instance's name: log prefix, log file, VIGIL_INSTANCE's service part */
  readonly name: string;
  readonly service: string;
  readonly index: number;
  readonly replicas: number;
  readonly argv: readonly string[];
  readonly cwd: string;
  /** the manifest's env and the VIGIL_* variables; the adapter adds the supervisor's own and the token */
  readonly env: Readonly<Record<string, string>>;
  /** the job's own name (its cgroup): the instance's, and another for a new child starting beside it */
  readonly job: string;
  /** listening sockets the child gets from fd 3 on, with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID */
  readonly sockets: readonly SocketConfig[];
  /** a Node IPC channel on the first fd after the sockets (fd 3 without sockets) */
  readonly ipc: boolean;
  /** a notify datagram socket of this child's own, as NOTIFY_SOCKET (`heartbeat.via: notify`) */
  readonly notify: boolean;
  readonly stop: { readonly signal: SignalName; readonly timeoutMs: number };
  readonly log: { readonly maxBytes: number; readonly keep: number };
  /** watched, not spawned (adopt:): found by pidfile or command line; argv, if any, starts it again */
  readonly adopt?: AdoptConfig | null;
  /** heartbeat.token_env: the token is this variable's value, not a new one per spawn */
  readonly tokenEnv?: string | null;
  /** logs.file: this file's growth counts as output */
  readonly logFile?: string | null;
}

export type Effect =
  | { readonly type: "Spawn"; readonly id: InstanceId; readonly incarnation: number; readonly spec: SpawnSpec }
  /** the stop signal to every process of the child's job, then SIGCONT (a frozen child must act on it) */
  | { readonly type: "Signal"; readonly id: InstanceId; readonly incarnation: number; readonly signal: SignalName }
  /** SIGKILL to every process of the child's job */
  | { readonly type: "KillJob"; readonly id: InstanceId; readonly incarnation: number }
  | { readonly type: "SetTimer"; readonly key: TimerKey; readonly delayMs: number }
  | { readonly type: "CancelTimer"; readonly key: TimerKey }
  | {
      readonly type: "RunProbe";
      readonly id: InstanceId;
      readonly incarnation: number;
      readonly probe: "liveness" | "readiness";
      readonly config: ProbeConfig;
      readonly cwd: string;
    }
  | { readonly type: "Publish"; readonly event: DomainEvent }
  | { readonly type: "Reply"; readonly to: ReplyTo; readonly answer: CommandAnswer }
  /** read the manifest again and report ManifestLoaded or ManifestRejected */
  | { readonly type: "LoadManifest"; readonly replyTo: ReplyTo | null }
  /** a new generation is applied: the adapters that follow the manifest (http, sampling, alerts, the watcher) take it */
  | { readonly type: "Reconfigure"; readonly manifest: Manifest; readonly previous: Manifest }
  /** the instance is gone for good (removed, scaled down): its log and cgroup may be closed */
  | { readonly type: "ForgetInstance"; readonly id: InstanceId }
  /** every instance has stopped after a shutdown */
  | { readonly type: "Stopped" }
  /** to a service manager above vigil (systemd): started, stopping, or alive (the loop took a WatchdogDue) */
  | { readonly type: "Announce"; readonly what: "ready" | "stopping" | "watchdog" }
  /** compute when a cron `ping:` check's next ping is due after fromWallMs; answered with PingArmed */
  | { readonly type: "ArmPing"; readonly name: string; readonly config: PingConfig; readonly seq: number; readonly fromWallMs: number }
  /** run an `actions:` command, bounded by its timeout; answered with ActionFinished */
  | {
      readonly type: "RunAction";
      readonly seq: number;
      readonly id: InstanceId;
      readonly name: string;
      readonly argv: readonly string[];
      readonly cwd: string;
      /** the service's env and the VIGIL_EVENT_* variables; the adapter adds the supervisor's own */
      readonly env: Readonly<Record<string, string>>;
      readonly timeoutMs: number;
    };

/** the timer's key as one string, for the adapter's map */
export function timerKeyText(key: TimerKey): string {
  return `${key.id}\u0000${key.incarnation}\u0000${key.kind}`;
}
