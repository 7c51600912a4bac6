// Everything that can happen to a stack reaches the loop as one of these, in one queue: facts reported
// by the adapters (past tense) and requests (…Requested). The loop hands each to step().
import type { ParsedMessage, RejectKind } from "../heartbeat-message.js";
import type { NotifyDatagram } from "../notify-message.js";
import type { Manifest } from "../../manifest/types.js";
import type { InstanceId } from "./ids.js";
import type { StackCommand } from "./commands.js";
import type { TimerKey } from "./effects.js";
import type { PingSignal } from "../ping.js";
import type { ActionResult } from "./actions.js";

/** What one resource sweep saw of one instance's process tree. */
export interface InstanceSample {
  readonly id: InstanceId;
  /** the main pid the tree was found under: a sample of an earlier child is not news of this one */
  readonly pid: number;
  /** percent of one core over the whole tree; null on the first sample of a pid */
  readonly cpuPercent: number | null;
  readonly rssBytes: number;
  readonly ownCpuPercent: number | null;
  readonly ownRssBytes: number;
  readonly processes: number;
}

export interface HostSample {
  readonly cpuPercent: number;
  readonly cores: number;
  readonly loadAvg: readonly [number, number, number];
  readonly memTotalBytes: number;
  readonly memAvailableBytes: number;
  readonly disk: { readonly path: string; readonly totalBytes: number; readonly usedBytes: number; readonly usedPercent: number } | null;
}

/** Where the answer to a control request goes (the control socket, the HTTP API, the library). */
export type ReplyTo = number;

export type Input =
  /**
   * the stack begins: every instance is queued, each starts once its dependencies are ready; with `only`
   * (`vigil up NAME...`) just those services and their dependencies, and no service that is disabled otherwise
   */
  | { readonly type: "Started"; readonly pid: number; readonly only?: readonly string[] }
  /** SIGINT/SIGTERM, `vigil down`; kill: the second Ctrl-C */
  | { readonly type: "ShutdownRequested"; readonly kill: boolean }
  | { readonly type: "ChildSpawned"; readonly id: InstanceId; readonly incarnation: number; readonly pid: number; readonly token: string }
  | { readonly type: "SpawnFailed"; readonly id: InstanceId; readonly incarnation: number; readonly error: string }
  /** the child's whole job has ended (its main process first, then whatever it left) */
  | { readonly type: "ChildExited"; readonly id: InstanceId; readonly incarnation: number; readonly code: number | null; readonly signal: string | null }
  /** what the process adapter noticed of a job: leftovers of an exited main process, an escaped daemon */
  | { readonly type: "JobNoticed"; readonly id: InstanceId; readonly note: JobNote }
  /** the child wrote output (at most once per turn of the event loop is reported) */
  | { readonly type: "OutputSeen"; readonly id: InstanceId; readonly incarnation: number }
  /** a line on the heartbeat socket, parsed; who sent it is told by its service and token */
  | { readonly type: "MessageReceived"; readonly message: ParsedMessage }
  /** a line on a child's own IPC channel: the channel tells who sent it */
  | { readonly type: "IpcMessageReceived"; readonly id: InstanceId; readonly incarnation: number; readonly message: ParsedMessage }
  /** a datagram on the notify socket of one child (`heartbeat.via: notify`): the socket tells who sent it */
  | { readonly type: "NotifyReceived"; readonly id: InstanceId; readonly incarnation: number; readonly datagram: NotifyDatagram }
  /** input refused before it could be read as a message (not JSON, too long, too many connections) */
  | { readonly type: "MessageRejected"; readonly kind: RejectKind; readonly service: string | undefined }
  | { readonly type: "TimerFired"; readonly key: TimerKey }
  /** a file under a service's `watch.paths` changed (added, changed, removed), ignored ones left out */
  | { readonly type: "FilesChanged"; readonly service: string; readonly path: string }
  /** the runtime armed a scheduled service's timer (at start, on reload): when its next tick comes */
  | { readonly type: "ScheduleArmed"; readonly service: string; readonly nextRunAtWallMs: number | null }
  /** a scheduled service's time has come; the runtime has armed the next tick already */
  | { readonly type: "ScheduleTicked"; readonly service: string; readonly nextRunAtWallMs: number | null }
  /** the supervisor's own watchdog timer: answered with Announce watchdog, so a stalled loop stops the pings */
  | { readonly type: "WatchdogDue" }
  | {
      readonly type: "ProbeFinished";
      readonly id: InstanceId;
      readonly incarnation: number;
      readonly probe: "liveness" | "readiness";
      readonly ok: boolean;
      readonly detail: string;
    }
  | { readonly type: "ResourcesSampled"; readonly samples: readonly InstanceSample[]; readonly host: HostSample | null }
  | { readonly type: "ControlRequested"; readonly replyTo: ReplyTo; readonly command: StackCommand }
  /** a new version of the manifest was read (on a change of the file, SIGHUP, or `vigil reload`) */
  | { readonly type: "ManifestLoaded"; readonly manifest: Manifest; readonly replyTo: ReplyTo | null }
  /** `missing`: the file is gone (deleted, or mid-way through an editor's save), a warning rather than an error */
  | { readonly type: "ManifestRejected"; readonly error: string; readonly replyTo: ReplyTo | null; readonly missing?: boolean }
  /** a ping of a `ping:` check, its token checked (POST /ping/NAME, vigil beat --service NAME) */
  | { readonly type: "PingReceived"; readonly name: string; readonly signal: PingSignal }
  /** the runtime computed when a cron check's next ping is due (the answer to ArmPing) */
  | { readonly type: "PingArmed"; readonly name: string; readonly seq: number; readonly dueWallMs: number }
  /** an `actions:` command has ended */
  | { readonly type: "ActionFinished"; readonly seq: number; readonly result: ActionResult }
  /** a beat naming no service, with the unmanaged token (top-level heartbeat.unmanaged) */
  | { readonly type: "UnmanagedBeat"; readonly name: string; readonly data: unknown }
  /** the adopt adapter found the process of an `adopt:` service, found none, or let it go on a stop */
  | { readonly type: "AdoptNoticed"; readonly id: InstanceId; readonly outcome: "adopted" | "not-found" | "released"; readonly pid: number | null; readonly detail: string };

export type JobNote =
  | { readonly kind: "leftovers"; readonly text: string; readonly pids: readonly number[]; readonly daemon: boolean }
  | { readonly kind: "escaped"; readonly pid: number; readonly command: string }
  | { readonly kind: "stuck"; readonly text: string };
