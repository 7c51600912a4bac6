// Which services `vigil health` calls not well (the exit statuses are proved against a live stack in tasks.test.ts).
import { describe, expect, it } from "vitest";
import type { ServiceDoc } from "../../src/control/status-document.js";
import { verdict } from "../../src/cli/health.js";

function doc(over: Partial<ServiceDoc>): ServiceDoc {
  return {
    name: "svc", service: "svc", instance: 0, state: "running", health: "unknown", pid: 10, restarts: 0, started_at: null, last_beat_at: null, beats: 0,
    last_beat_data: null, cpu_percent: null, memory_bytes: null, last_exit: null, next_restart_at: null, command: "x", waiting_for: [],
    own_cpu_percent: null, own_memory_bytes: null, processes: null, probes: null, rejected_messages: 0, status_text: null, ...over,
  };
}

const exit = (code: number | null, signal: string | null = null, reason: "exit" | "heartbeat" | "manual" = "exit") => ({ code, signal, reason, at: "2026-12-06T10:00:00.000Z" });

describe("vigil health's verdict", () => {
  it.each([
    ["running, healthy", doc({ health: "healthy" })],
    ["running, health unknown", doc({})],
    ["starting", doc({ state: "starting", pid: null })],
    ["stopping", doc({ state: "stopping" })],
    ["stopped by a person", doc({ state: "stopped", pid: null, last_exit: exit(null, "SIGTERM", "manual") })],
    ["exited with code 0", doc({ state: "exited", pid: null, last_exit: exit(0) })],
  ])("%s is well", (_, s) => {
    expect(verdict(s)).toMatchObject({ well: true, problem: null });
  });

  it.each([
    ["degraded", doc({ health: "degraded" }), "health degraded"],
    ["critical", doc({ health: "critical" }), "health critical"],
    ["failed", doc({ health: "failed" }), "health failed"],
    ["fatal", doc({ state: "fatal", pid: null }), "fatal: crash loop, not restarted any more"],
    ["in backoff", doc({ state: "backoff", pid: null, next_restart_at: "2026-12-06T10:00:05.000Z", last_exit: exit(null, "SIGTERM", "heartbeat") }), "backoff: restarting at 2026-12-06T10:00:05.000Z after SIGTERM (reason heartbeat)"],
    ["exited after a failure", doc({ state: "exited", pid: null, last_exit: exit(2) }), "exited after a failure: code 2"],
  ])("%s is not well", (_, s, problem) => {
    expect(verdict(s)).toEqual({ name: "svc", state: s.state, health: s.health, well: false, problem });
  });
});
