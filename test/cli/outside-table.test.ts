// The table's lines for ping checks and beats without a service, below the services.
import { describe, expect, it } from "vitest";
import type { StatusDocument } from "../../src/control/status-document.js";
import { renderTable } from "../../src/cli/status-table.js";

const NOW = Date.parse("2026-11-22T12:00:00.000Z");
const ago = (ms: number): string => new Date(NOW - ms).toISOString();

const DOC: StatusDocument = {
  supervisor: {
    pid: 4100, started_at: ago(3_600_000), manifest: "/srv/app/supervisor.yaml", generation: 1, config_error: null,
    state_dir: "/srv/app/.vigil", stopping: false, rejected_messages: 0, host: null, problems: [], connections: null, process_backend: "proc",
  },
  services: [],
  pings: [
    {
      name: "backup", state: "down", health: "failed", pings: 4, failures: 1, last_ping_at: ago(90_000), started_at: null, last_duration_ms: 5_000,
      last_exit_code: 3, next_due_at: "2026-11-23T03:00:00.000Z", grace_ms: 600_000, every_ms: null, cron: "0 3 * * *",
    },
    { name: "nightly", state: "new", health: "unknown", pings: 0, failures: 0, last_ping_at: null, started_at: null, last_duration_ms: null, last_exit_code: null, next_due_at: null, grace_ms: 60_000, every_ms: 3_600_000, cron: null },
  ],
  unmanaged: [{ name: "bidder", last_beat_at: ago(23_000), age_ms: 23_000, beats: 7, last_beat_data: null }],
  unmanaged_refused: 0,
};

describe("the status table for what vigil does not run", () => {
  it("shows each ping check's state and last ping, and each unmanaged name with its age", () => {
    const text = renderTable(DOC, NOW);
    expect(text).toContain("ping backup  down  last ping 1m ago (exit 3), next by 2026-11-23T03:00:00.000Z\n");
    expect(text).toContain("ping nightly  new  last ping never\n");
    expect(text).toContain("unmanaged (beats without a service):\n  bidder  7 beats, last 23s ago\n");
  });
});
