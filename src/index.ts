// vigil's library API: the pieces a Node program can use on its own.
export { HeartbeatMonitor } from "./runtime/heartbeat-monitor.js";
export type { BeatRecord, HealthChange, MonitorEvents, WatchOptions, WatchStats, MonitorStats } from "./runtime/heartbeat-monitor.js";
export { healthAt, startupDeadlineMs } from "./core/heartbeat-health.js";
export { backoffDelayMs } from "./core/backoff.js";
export type { Clock } from "./core/clock.js";
export type { ServiceState, Health, ExitReason } from "./core/types.js";
export { loadManifest, parseManifest } from "./manifest/load.js";
export { ManifestError } from "./manifest/errors.js";
export type { ManifestIssue } from "./manifest/errors.js";
export type { Manifest, ServiceConfig } from "./manifest/types.js";
export { realClock } from "./runtime/real-clock.js";
export { UnknownServiceError, ShuttingDownError } from "./runtime/http/backend.js";
export type { DomainEvent, EventKind, EventFields } from "./core/stack/domain-events.js";
export type { StatusDocument, ServiceDoc } from "./control/status-document.js";
export { createSupervisor, VigilSupervisor } from "./api.js";
export type { SupervisorEventMap, CreateOptions } from "./api.js";
export type { ManifestInput } from "./manifest/schema.js";
export { LockError } from "./runtime/state/lock.js";
