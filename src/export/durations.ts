// Durations as the targets write them.

/** systemd's time span syntax: `5s`, `200ms`, `5min` */
export function systemdSpan(ms: number): string {
  if (ms === 0) return "0";
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}min`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** vigil's own syntax, for messages: `5s`, `200ms`, `5m` */
export function vigilSpan(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Whole seconds, rounded up; Kubernetes counts time in them. */
export function wholeSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}
