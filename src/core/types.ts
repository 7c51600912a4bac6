// The vocabulary shared by the pure core and the runtime. Values fixed by SPEC §4.

export const SERVICE_STATES = ["starting", "running", "stopping", "stopped", "backoff", "fatal", "exited"] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

export const HEALTHS = ["healthy", "degraded", "critical", "failed", "unknown"] as const;
export type Health = (typeof HEALTHS)[number];

export const EXIT_REASONS = ["exit", "heartbeat", "log-stale", "memory", "cpu", "probe", "manual", "config", "watch", "schedule", "task-timeout"] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

/** reasons for which the supervisor itself decided to end a child that was misbehaving */
export type FailureReason = Extract<ExitReason, "heartbeat" | "log-stale" | "memory" | "cpu" | "probe" | "task-timeout">;

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason: ExitReason;
  /** monotonic ms */
  readonly atMs: number;
  /** set when the command could not be started at all (ENOENT, EACCES, …) */
  readonly error?: string;
}

/** A signal by name, as the manifest writes it and Node's process.kill takes it (NodeJS.Signals, without Node's types). */
export type SignalName =
  | "SIGABRT" | "SIGALRM" | "SIGBUS" | "SIGCHLD" | "SIGCONT" | "SIGFPE" | "SIGHUP" | "SIGILL" | "SIGINT" | "SIGIO"
  | "SIGIOT" | "SIGKILL" | "SIGPIPE" | "SIGPOLL" | "SIGPROF" | "SIGPWR" | "SIGQUIT" | "SIGSEGV" | "SIGSTKFLT"
  | "SIGSTOP" | "SIGSYS" | "SIGTERM" | "SIGTRAP" | "SIGTSTP" | "SIGTTIN" | "SIGTTOU" | "SIGUNUSED" | "SIGURG"
  | "SIGUSR1" | "SIGUSR2" | "SIGVTALRM" | "SIGWINCH" | "SIGXCPU" | "SIGXFSZ" | "SIGBREAK" | "SIGLOST" | "SIGINFO";
