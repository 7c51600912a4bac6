import type { Supervisor } from "../supervisor.js";
import { ShuttingDownError, type ApiBackend, type HeartbeatServiceDoc, type HeartbeatStatusDoc } from "./backend.js";

/** The supervisor as the HTTP API sees it. */
export function supervisorBackend(supervisor: Supervisor): ApiBackend {
  return {
    status: (names, opts) => supervisor.status(names, opts),
    control(command, names) {
      if (supervisor.isShuttingDown) throw new ShuttingDownError();
      supervisor.control(command, names);
    },
    restartCounts: () => supervisor.restartCounts(),
    heartbeatStatus(): HeartbeatStatusDoc {
      const monitor = supervisor.heartbeats.monitor;
      const services: HeartbeatServiceDoc[] = [];
      for (const r of supervisor.runners.values()) {
        const hb = r.config.heartbeat;
        if (!hb) continue;
        const stats = monitor.statsOf(r.name);
        const book = supervisor.heartbeats.book(r.name);
        services.push({
          name: r.name,
          health: supervisor.healthOf(r.name),
          last_beat_at: book?.lastBeatWallMs ? new Date(book.lastBeatWallMs).toISOString() : null,
          beat_age_ms: stats?.ageMs ?? null,
          interval_ms: hb.intervalMs,
          misses: hb.misses,
        });
      }
      const stats = monitor.stats();
      return {
        monitor: {
          running: !supervisor.isShuttingDown,
          watched: stats.watched,
          healthy: stats.healthy,
          degraded: stats.degraded,
          critical: stats.critical,
          failed: stats.failed,
        },
        services,
      };
    },
  };
}
