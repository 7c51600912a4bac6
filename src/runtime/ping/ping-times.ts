// When a `ping:` check's next ping is due: croner's next time of its cron expression after `from`
// (an `every` check's is the core's own: from + every).
import { Cron } from "croner";
import type { PingConfig } from "../../manifest/types.js";
import { CRON_MODE } from "../../manifest/cron.js";

/** far beyond any timer: a cron expression with no next time (a date long past) is never late */
const NEVER_MS = 100 * 365 * 24 * 3600 * 1000;

export function nextPingDueWallMs(config: PingConfig, fromWallMs: number): number {
  if (config.everyMs !== null) return fromWallMs + config.everyMs;
  const cron = new Cron(config.cron ?? "", { mode: CRON_MODE, paused: true, ...(config.timezone ? { timezone: config.timezone } : {}) });
  try {
    const next = cron.nextRun(new Date(fromWallMs));
    return next === null ? fromWallMs + NEVER_MS : next.getTime();
  } finally {
    cron.stop();
  }
}
