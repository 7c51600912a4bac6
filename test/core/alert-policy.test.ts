import { describe, expect, it } from "vitest";
import { AlertPolicy, alertPayload, alertText, classify, ruleMatches, type EventRecord, type PolicyRule } from "../../src/core/alert-policy.js";
import type { AlertKind } from "../../src/manifest/types.js";

const MIN = 60_000;

function event(kind: string, service: string | null, fields: Record<string, unknown> = {}, message = `${kind} happened`): EventRecord {
  return { at: "2026-11-22T10:00:00.000Z", service, kind, message, fields };
}

const restart = (service = "api", attempt = 1): EventRecord =>
  event("restart-scheduled", service, { delayMs: 400, reason: "exit", attempt }, "restarting in 400ms (reason exit)");
const health = (service: string, to: string, from: string): EventRecord => event("health", service, { health: to, previous: from });

function rule(on: AlertKind[], extra: Partial<PolicyRule> = {}): PolicyRule {
  return { on, services: null, cooldownMs: 5 * MIN, ...extra };
}

describe("classify", () => {
  it("maps the supervisor's events to alert kinds with their reason", () => {
    expect(classify(event("failure", "api", { reason: "heartbeat" }))).toEqual({ kind: "failed", reason: "heartbeat" });
    expect(classify(health("api", "failed", "critical"))).toEqual({ kind: "failed", reason: "health critical -> failed" });
    expect(classify(health("api", "degraded", "healthy"))?.kind).toBe("degraded");
    expect(classify(health("api", "critical", "degraded"))?.kind).toBe("critical");
    expect(classify(event("fatal", "api", { restarts: 5 }))).toEqual({ kind: "fatal", reason: "crash-loop" });
    expect(classify(event("start-abandoned", "web"))).toEqual({ kind: "fatal", reason: "dependency" });
    expect(classify(restart())).toEqual({ kind: "restart", reason: "exit" });
    expect(classify(event("spawn-failed", "api", { error: "ENOENT" }))).toEqual({ kind: "spawn-failed", reason: "ENOENT" });
    expect(classify(event("config-rejected", null))?.kind).toBe("config-rejected");
    expect(classify(event("limit-breach", "api", { kind: "memory" }))).toEqual({ kind: "limit", reason: "memory" });
  });

  it("ignores what is not worth telling a person", () => {
    for (const kind of ["spawned", "exit", "up", "down", "shutdown", "config-applied", "stop-timeout"]) expect(classify(event(kind, "api"))).toBeNull();
    expect(classify(health("api", "healthy", "unknown"))).toBeNull();
  });
});

describe("ruleMatches", () => {
  it("matches the kinds in `on` and the listed services; no list means every service and the supervisor", () => {
    expect(ruleMatches(rule(["restart"]), "restart", "api")).toBe(true);
    expect(ruleMatches(rule(["restart"]), "fatal", "api")).toBe(false);
    expect(ruleMatches(rule(["restart"], { services: ["web"] }), "restart", "api")).toBe(false);
    expect(ruleMatches(rule(["restart"], { services: ["web"] }), "restart", "web")).toBe(true);
    expect(ruleMatches(rule(["config-rejected"]), "config-rejected", null)).toBe(true);
    expect(ruleMatches(rule(["config-rejected"], { services: ["web"] }), "config-rejected", null)).toBe(false);
  });
});

describe("AlertPolicy cooldown", () => {
  it("sends the restarts it folded before a fatal of the same service to the same rule, not after it", () => {
    const policy = new AlertPolicy([rule(["restart", "fatal"])]);
    policy.offer(restart("api", 1), 0);
    policy.offer(restart("api", 2), 1000);
    policy.offer(restart("api", 3), 2000);
    const fatal = policy.offer(event("fatal", "api", { restarts: 3 }), 3000);
    expect(fatal.alerts.map((a) => [a.kind, a.folded])).toEqual([["restart", 1], ["fatal", 0]]);
    // nothing is left to come after the fatal
    expect(policy.pendingFolded()).toBe(0);
    expect(policy.flush(10 * MIN).alerts).toEqual([]);
  });

  it("sends the first event at once and folds the repeats inside the cooldown into the message after it", () => {
    const policy = new AlertPolicy([rule(["restart"])]);
    const first = policy.offer(restart("api", 1), 0);
    expect(first.alerts).toMatchObject([{ rule: 0, kind: "restart", service: "api", reason: "exit", folded: 0 }]);
    expect(first.flushAtMs).toBeNull();
    for (let i = 2; i <= 15; i++) expect(policy.offer(restart("api", i), i * 1000).alerts).toEqual([]);
    expect(policy.pendingFolded()).toBe(14);
    // a new restart after the cooldown, before the timer: it carries the fourteen
    const next = policy.offer(restart("api", 16), 5 * MIN + 1);
    expect(next.alerts).toMatchObject([{ kind: "restart", folded: 14, event: { fields: { attempt: 16 } } }]);
    expect(policy.pendingFolded()).toBe(0);
  });

  it("says when to flush a fold, and the flush sends the latest repeat with the others counted", () => {
    const policy = new AlertPolicy([rule(["restart"])]);
    policy.offer(restart("api", 1), 0);
    policy.offer(restart("api", 2), 1000);
    const third = policy.offer(restart("api", 3), 2000);
    expect(third.flushAtMs).toBe(5 * MIN);
    expect(policy.flush(5 * MIN - 1).alerts).toEqual([]);
    const flushed = policy.flush(5 * MIN);
    expect(flushed.alerts).toMatchObject([{ kind: "restart", service: "api", folded: 1, event: { fields: { attempt: 3 } } }]);
    expect(flushed.flushAtMs).toBeNull();
    // the flush was a message: the cooldown starts again from it
    expect(policy.offer(restart("api", 4), 5 * MIN + 1000).alerts).toEqual([]);
    expect(policy.flush(5 * MIN).flushAtMs).toBe(10 * MIN);
  });

  it("keeps one cooldown per rule, service and kind", () => {
    const policy = new AlertPolicy([rule(["restart", "fatal"]), rule(["restart"], { cooldownMs: 0 })]);
    expect(policy.offer(restart("api"), 0).alerts.map((a) => a.rule)).toEqual([0, 1]);
    expect(policy.offer(restart("web"), 1).alerts.map((a) => `${a.rule}:${a.service}`)).toEqual(["0:web", "1:web"]);
    expect(policy.offer(restart("api"), 2).alerts.map((a) => a.rule)).toEqual([1]);
    // rule 0 folded api's second restart: it goes out before the fatal
    expect(policy.offer(event("fatal", "api", { restarts: 3 }), 3).alerts).toMatchObject([
      { rule: 0, kind: "restart", folded: 0 },
      { rule: 0, kind: "fatal" },
    ]);
  });

  it("flushes everything still folded when asked to (at shutdown)", () => {
    const policy = new AlertPolicy([rule(["restart"])]);
    policy.offer(restart(), 0);
    policy.offer(restart(), 10);
    policy.offer(restart(), 20);
    expect(policy.flush(30, true).alerts).toMatchObject([{ folded: 1 }]);
    expect(policy.pendingFolded()).toBe(0);
  });
});

describe("AlertPolicy recovered", () => {
  it("follows a failure alert once the service is healthy again, and only then", () => {
    const policy = new AlertPolicy([rule(["failed", "recovered"])]);
    expect(policy.offer(health("api", "healthy", "unknown"), 0).alerts).toEqual([]);
    expect(policy.offer(event("failure", "api", { reason: "heartbeat" }), 1000).alerts).toMatchObject([{ kind: "failed" }]);
    expect(policy.offer(health("api", "unknown", "failed"), 1100).alerts).toEqual([]);
    expect(policy.offer(health("api", "healthy", "unknown"), 2000).alerts).toMatchObject([{ kind: "recovered", service: "api", reason: "healthy" }]);
    // healthy again without a failure in between: nothing
    expect(policy.offer(health("api", "healthy", "degraded"), 3000).alerts).toEqual([]);
  });

  it("counts a heartbeat failure logged twice (decision and health change) as one", () => {
    const policy = new AlertPolicy([rule(["failed"], { cooldownMs: 0 })]);
    expect(policy.offer(event("failure", "api", { reason: "heartbeat" }), 1000).alerts).toHaveLength(1);
    expect(policy.offer(health("api", "failed", "critical"), 1000).alerts).toEqual([]);
    // a later, separate failure counts again
    expect(policy.offer(event("failure", "api", { reason: "heartbeat" }), 60_000).alerts).toHaveLength(1);
  });

  it("follows a degraded alert, per service", () => {
    const policy = new AlertPolicy([rule(["degraded", "recovered"])]);
    policy.offer(health("api", "degraded", "healthy"), 0);
    expect(policy.offer(health("web", "healthy", "unknown"), 10).alerts).toEqual([]);
    expect(policy.offer(health("api", "healthy", "degraded"), 20).alerts).toMatchObject([{ kind: "recovered", service: "api" }]);
  });

  it("is sent when a fatal service runs again", () => {
    const policy = new AlertPolicy([rule(["fatal", "recovered"])]);
    policy.offer(event("fatal", "api", { restarts: 5 }), 0);
    expect(policy.offer(event("spawned", "api", { pid: 42 }), 5000).alerts).toMatchObject([
      { kind: "recovered", service: "api", reason: "running again after fatal" },
    ]);
    expect(policy.offer(event("spawned", "api", { pid: 43 }), 6000).alerts).toEqual([]);
  });

  it("is owed only to rules that alerted the trouble; a rule of recovered alone hears every recovery", () => {
    const policy = new AlertPolicy([rule(["failed", "recovered"], { services: ["web"] }), rule(["recovered"]), rule(["degraded", "recovered"])]);
    policy.offer(event("failure", "api", { reason: "probe" }), 0);
    const alerts = policy.offer(health("api", "healthy", "unknown"), 1000).alerts;
    expect(alerts.map((a) => a.rule)).toEqual([1]);
  });
});

describe("alert text and payload", () => {
  it("names the host, the service, the kind, the message and what was folded", () => {
    const policy = new AlertPolicy([rule(["restart"], { cooldownMs: 100 })]);
    policy.offer(restart(), 0);
    policy.offer(restart(), 10);
    policy.offer(restart(), 20);
    const [alert] = policy.flush(100).alerts;
    if (!alert) throw new Error("no alert");
    expect(alertText(alert, "web-1")).toBe("[web-1] api: restart — restarting in 400ms (reason exit) (and 1 more)");
    expect(alertPayload(alert, "web-1")).toEqual({
      service: "api",
      event: "restart",
      reason: "exit",
      message: "restarting in 400ms (reason exit)",
      figures: { delayMs: 400, reason: "exit", attempt: 1 },
      host: "web-1",
      time: "2026-11-22T10:00:00.000Z",
      folded: 1,
      source: "restart-scheduled",
      text: "[web-1] api: restart — restarting in 400ms (reason exit) (and 1 more)",
    });
  });
});
