import { describe, expect, it } from "vitest";
import type { AlertPayload } from "../../../../src/core/alert-policy.js";
import { AlertDispatcher, type Deliver } from "../../../../src/runtime/outputs/alerts/dispatcher.js";
import type { Delivery } from "../../../../src/runtime/outputs/alerts/webhook.js";
import type { VigilEvent } from "../../../../src/runtime/outputs/event.js";
import type { LogLevel, Logger } from "../../../../src/runtime/outputs/logger.js";
import type { AlertKind, AlertRule } from "../../../../src/manifest/types.js";
import { FakeClock } from "../../../support/fake-clock.js";
import { startReceiver } from "../../../support/receiver.js";

function rule(on: AlertKind[], extra: Partial<AlertRule> = {}): AlertRule {
  return {
    on,
    services: null,
    target: { kind: "webhook", url: "http://127.0.0.1:9/", urlEnv: null, format: "json" },
    cooldownMs: 0,
    timeoutMs: 1000,
    retries: 0,
    retryBackoffMs: 10,
    ...extra,
  };
}

const restart = (service = "api", attempt = 1): VigilEvent => ({
  at: "2026-11-22T10:00:00.000Z",
  service,
  kind: "restart-scheduled",
  level: "info",
  message: "restarting in 400ms (reason exit)",
  fields: { delayMs: 400, reason: "exit", attempt },
});

function recordingLogger(): Logger & { lines: { level: LogLevel; event: string; msg: string }[] } {
  const lines: { level: LogLevel; event: string; msg: string }[] = [];
  return { lines, log: (level, _service, event, msg) => void lines.push({ level, event, msg }), flush: () => Promise.resolve() };
}

/** A delivery the test settles by hand. */
function manualDelivery(): { deliver: Deliver; pending: { payload: AlertPayload; signal: AbortSignal; settle: (d: Delivery) => void }[] } {
  const pending: { payload: AlertPayload; signal: AbortSignal; settle: (d: Delivery) => void }[] = [];
  const deliver: Deliver = (_rule, payload, signal) =>
    new Promise((settle) => {
      pending.push({ payload, signal, settle });
      signal.addEventListener("abort", () => settle({ ok: false, attempts: 1, detail: "abandoned at shutdown" }));
    });
  return { deliver, pending };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("AlertDispatcher", () => {
  it("hands alerts to delivery without waiting for it, at most maxInFlight at once", async () => {
    const clock = new FakeClock();
    const { deliver, pending } = manualDelivery();
    const d = new AlertDispatcher([rule(["restart"])], { clock, logger: recordingLogger(), host: "h", deliver, maxInFlight: 2 });
    for (let i = 1; i <= 5; i++) d.publish(restart(`s${i}`));
    expect(pending.map((p) => p.payload.service)).toEqual(["s1", "s2"]);
    expect([d.inFlight, d.queued]).toEqual([2, 3]);
    pending[0]?.settle({ ok: true, attempts: 1, detail: "HTTP 200" });
    await tick();
    expect(pending.map((p) => p.payload.service)).toEqual(["s1", "s2", "s3"]);
    while (d.inFlight > 0) {
      for (const p of pending) p.settle({ ok: true, attempts: 1, detail: "HTTP 200" });
      await tick();
    }
    expect(pending).toHaveLength(5);
    await d.close();
  });

  it("delivers one service's alerts to one rule in order, others beside them", async () => {
    const clock = new FakeClock();
    const { deliver, pending } = manualDelivery();
    const d = new AlertDispatcher([rule(["restart"])], { clock, logger: recordingLogger(), host: "h", deliver, maxInFlight: 8 });
    d.publish(restart("api", 1));
    d.publish(restart("api", 2));
    d.publish(restart("db", 1));
    // api's second waits for its first; db's goes at once
    expect(pending.map((p) => `${p.payload.service}`)).toEqual(["api", "db"]);
    expect([d.inFlight, d.queued]).toEqual([2, 1]);
    pending[1]?.settle({ ok: true, attempts: 1, detail: "HTTP 200" });
    await tick();
    expect(pending).toHaveLength(2);
    pending[0]?.settle({ ok: true, attempts: 1, detail: "HTTP 200" });
    await tick();
    expect(pending).toHaveLength(3);
    expect(pending[2]?.payload.service).toBe("api");
    expect(pending[2]?.payload.message).toBe(pending[0]?.payload.message);
    pending[2]?.settle({ ok: true, attempts: 1, detail: "HTTP 200" });
    await d.close();
    expect([d.inFlight, d.queued]).toEqual([0, 0]);
  });

  it("drops the oldest waiting alert when the queue is full, and counts and logs it", async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const { deliver, pending } = manualDelivery();
    const d = new AlertDispatcher([rule(["restart"])], { clock, logger, host: "h", deliver, maxInFlight: 1, maxQueued: 2 });
    for (let i = 1; i <= 5; i++) d.publish(restart(`s${i}`));
    expect(d.counters().dropped).toBe(2);
    expect(logger.lines).toContainEqual({ level: "warn", event: "alerts-dropped", msg: "alerts dropped: 1 (too many alerts waiting)" });
    for (let n = 0; n < 3; n++) {
      pending.at(-1)?.settle({ ok: true, attempts: 1, detail: "HTTP 200" });
      await tick();
    }
    expect(pending.map((p) => p.payload.service)).toEqual(["s1", "s4", "s5"]);
    await d.close();
    expect(d.counters().delivered).toBe(3);
  });

  it("counts failures and logs them at a bounded rate", async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const failing: Deliver = () => Promise.resolve({ ok: false, attempts: 4, detail: "HTTP 500" });
    const d = new AlertDispatcher([rule(["restart"])], { clock, logger, host: "h", deliver: failing, failureLogMs: 30_000 });
    for (let i = 0; i < 10; i++) d.publish(restart(`s${i}`));
    await tick();
    expect(d.counters().failed).toBe(10);
    const failures = () => logger.lines.filter((l) => l.event === "alert-failed");
    expect(failures().map((l) => l.msg)).toEqual(["alert rule 1 (restart) not delivered after 4 attempts: HTTP 500"]);
    clock.advance(30_000);
    d.publish(restart("late"));
    await tick();
    expect(failures()[1]?.msg).toBe("alert rule 1 (restart) not delivered after 4 attempts: HTTP 500 (and 9 more failed alerts of this rule since the last report)");
    await d.close();
  });

  it("arms one timer for the folded repeats and sends them at the end of the cooldown", async () => {
    const clock = new FakeClock();
    const { deliver, pending } = manualDelivery();
    const d = new AlertDispatcher([rule(["restart"], { cooldownMs: 60_000 })], { clock, logger: recordingLogger(), host: "h", deliver });
    d.publish(restart("api", 1));
    for (let i = 2; i <= 15; i++) {
      clock.advance(1000);
      d.publish(restart("api", i));
    }
    expect(pending).toHaveLength(1);
    expect(clock.pending()).toBe(1);
    pending[0]?.settle({ ok: true, attempts: 1, detail: "HTTP 200" });
    await tick();
    clock.advanceTo(60_000);
    expect(pending.map((p) => [p.payload.folded, p.payload.figures["attempt"]])).toEqual([[0, 1], [13, 15]]);
    expect(pending[1]?.payload.text).toMatch(/\(and 13 more\)$/);
    expect(clock.pending()).toBe(0);
    for (const p of pending) p.settle({ ok: true, attempts: 1, detail: "HTTP 200" });
    await d.close();
  });

  it("hands over what a cooldown still holds when it closes, and abandons what outlasts closeTimeoutMs", async () => {
    const clock = new FakeClock();
    const { deliver, pending } = manualDelivery();
    const d = new AlertDispatcher([rule(["restart"], { cooldownMs: 60_000 })], { clock, logger: recordingLogger(), host: "h", deliver, closeTimeoutMs: 100 });
    d.publish(restart("api", 1));
    d.publish(restart("api", 2));
    d.publish(restart("api", 3));
    await d.close();
    // the folded alert is made at close; it waits behind api's first, which outlasts the close
    expect(pending.map((p) => [p.payload.folded, p.payload.figures["attempt"]])).toEqual([[0, 1]]);
    expect(pending.every((p) => p.signal.aborted)).toBe(true);
    expect(d.counters().failed).toBe(1);
    expect(d.counters().dropped).toBe(1);
    expect(clock.pending()).toBe(0);
    d.publish(restart("api", 4));
    expect(pending).toHaveLength(1);
  });

  it("returns from publish at once while the real receiver hangs", async () => {
    const r = await startReceiver(() => "hang");
    try {
      const clock = new FakeClock();
      const d = new AlertDispatcher([rule(["restart"], { target: { kind: "webhook", url: r.url, urlEnv: null, format: "json" }, timeoutMs: 10_000 })], {
        clock,
        logger: recordingLogger(),
        host: "h",
        closeTimeoutMs: 50,
      });
      // publish hands over and returns: nothing has reached the receiver yet, eight are under way, the rest wait
      for (let i = 0; i < 20; i++) d.publish(restart(`s${i}`));
      expect(r.received).toHaveLength(0);
      expect(d.inFlight).toBe(8);
      expect(d.queued).toBe(12);
      await d.close();
      expect(d.inFlight).toBe(0);
    } finally {
      await r.close();
    }
  });
});

describe("AlertDispatcher counters", () => {
  it("counts into the totals it is given, so that two stacks in one process keep their own", async () => {
    const { newAlertTotals } = await import("../../../../src/runtime/outputs/alerts/dispatcher.js");
    const ok: Deliver = () => Promise.resolve({ ok: true, attempts: 1, detail: "HTTP 200" });
    const mine = newAlertTotals();
    const a = new AlertDispatcher([rule(["restart"])], { clock: new FakeClock(), logger: recordingLogger(), host: "h", deliver: ok, totals: mine });
    const b = new AlertDispatcher([rule(["restart"])], { clock: new FakeClock(), logger: recordingLogger(), host: "h", deliver: ok });
    a.publish(restart("api"));
    b.publish(restart("api"));
    b.publish(restart("web"));
    await a.close();
    await b.close();
    expect(mine.delivered).toBe(1);
    expect(b.counters().delivered).toBe(2);
  });
});
