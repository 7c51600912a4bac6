import { describe, expect, it } from "vitest";
import type { ProbeChange, ProbeState } from "../../../src/core/probe-tracker.js";
import type { ProbeConfig } from "../../../src/manifest/types.js";
import type { CheckResult, runCheck } from "../../../src/runtime/probes/checks.js";
import { ProbeRunner } from "../../../src/runtime/probes/probe-runner.js";
import { FakeClock } from "../../support/fake-clock.js";

const CONFIG: ProbeConfig = {
  check: { kind: "tcp", host: "127.0.0.1", port: 3000 },
  intervalMs: 10_000,
  timeoutMs: 2000,
  failures: 3,
  initialDelayMs: 5000,
};

/** A run() whose checks end only when the test says so. */
class FakeChecks {
  readonly startedAtMs: number[] = [];
  readonly #pending: ((result: CheckResult) => void)[] = [];
  #inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly clock: FakeClock) {}

  readonly run: typeof runCheck = () => {
    this.startedAtMs.push(this.clock.now());
    this.#inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    return new Promise((resolve) => this.#pending.push(resolve));
  };

  get inFlight(): number {
    return this.#inFlight;
  }

  /** ends the oldest check in flight and lets the runner see its result */
  async end(ok: boolean, detail = ok ? "connected" : "ECONNREFUSED"): Promise<void> {
    const resolve = this.#pending.shift();
    if (!resolve) throw new Error("no check in flight");
    this.#inFlight--;
    resolve({ ok, detail, durationMs: 1 });
    await new Promise((done) => setImmediate(done));
  }
}

function setup(config: Partial<ProbeConfig> = {}) {
  const clock = new FakeClock();
  const checks = new FakeChecks(clock);
  const changes: { change: ProbeChange; state: ProbeState }[] = [];
  const runner = new ProbeRunner("api", "readiness", { ...CONFIG, ...config }, {
    clock,
    cwd: "/",
    env: {},
    run: checks.run,
    onChange: (change, state) => changes.push({ change, state }),
  });
  return { clock, checks, changes, runner };
}

describe("ProbeRunner", () => {
  it("runs the first check after the initial delay", () => {
    const { clock, checks, runner } = setup();
    runner.start();
    clock.advance(4999);
    expect(checks.startedAtMs).toEqual([]);
    clock.advance(1);
    expect(checks.startedAtMs).toEqual([5000]);
  });

  it("runs the first check at once with no initial delay", () => {
    const { clock, checks, runner } = setup({ initialDelayMs: 0 });
    runner.start();
    clock.advance(0);
    expect(checks.startedAtMs).toEqual([0]);
  });

  it("measures the interval from the end of the previous check", async () => {
    const { clock, checks, runner } = setup();
    runner.start();
    clock.advance(5000);
    clock.advance(1500);
    await checks.end(true);
    clock.advance(9999);
    expect(checks.startedAtMs).toEqual([5000]);
    clock.advance(1);
    expect(checks.startedAtMs).toEqual([5000, 16_500]);
  });

  it("never starts a check while one is in flight, however slow", async () => {
    const { clock, checks, runner } = setup();
    runner.start();
    clock.advance(5000 + 3 * CONFIG.intervalMs);
    expect(checks.startedAtMs).toEqual([5000]);
    expect(clock.pending()).toBe(0);
    await checks.end(false);
    clock.advance(CONFIG.intervalMs);
    expect(checks.startedAtMs).toEqual([5000, 45_000]);
    expect(checks.maxInFlight).toBe(1);
  });

  it("reports passing on the first success and failing after `failures` consecutive failures", async () => {
    const { clock, checks, changes, runner } = setup();
    runner.start();
    const check = async (ok: boolean) => {
      clock.advance(clock.nextDueMs()! - clock.now());
      await checks.end(ok);
    };
    await check(true);
    expect(changes.map((c) => c.change)).toEqual(["passing"]);
    await check(false);
    await check(false);
    expect(changes.map((c) => c.change)).toEqual(["passing"]);
    expect(runner.state()).toMatchObject({ status: "passing", consecutiveFailures: 2 });
    await check(false);
    expect(changes.map((c) => c.change)).toEqual(["passing", "failing"]);
    expect(changes[1]!.state).toMatchObject({
      status: "failing",
      consecutiveFailures: 3,
      totalChecks: 4,
      totalFailures: 3,
      lastDetail: "ECONNREFUSED",
      lastCheckAtMs: clock.now(),
    });
    await check(false);
    expect(changes).toHaveLength(2);
  });

  it("recovers to passing on one success after failing", async () => {
    const { clock, checks, changes, runner } = setup({ failures: 1, initialDelayMs: 0 });
    runner.start();
    clock.advance(0);
    await checks.end(false);
    clock.advance(CONFIG.intervalMs);
    await checks.end(true, "connected");
    expect(changes.map((c) => c.change)).toEqual(["failing", "passing"]);
    expect(runner.state()).toMatchObject({ status: "passing", consecutiveFailures: 0, lastDetail: "connected" });
  });

  it("stop() cancels the next check and drops the result of one in flight", async () => {
    const { clock, checks, changes, runner } = setup({ failures: 1 });
    runner.start();
    clock.advance(5000);
    runner.stop();
    await checks.end(false);
    expect(changes).toEqual([]);
    expect(runner.state().totalChecks).toBe(0);
    expect(clock.pending()).toBe(0);
    clock.advance(100_000);
    expect(checks.startedAtMs).toEqual([5000]);
  });

  it("stop() before the first check leaves no timer", () => {
    const { clock, checks, runner } = setup();
    runner.start();
    runner.stop();
    expect(clock.pending()).toBe(0);
    clock.advance(100_000);
    expect(checks.startedAtMs).toEqual([]);
    expect(runner.isRunning()).toBe(false);
  });

  it("a restart begins unknown and ignores the old run's late result", async () => {
    const { clock, checks, changes, runner } = setup({ failures: 1 });
    runner.start();
    clock.advance(5000);
    runner.start();
    await checks.end(false);
    expect(runner.state().status).toBe("unknown");
    expect(changes).toEqual([]);
    clock.advance(5000);
    await checks.end(true);
    expect(changes.map((c) => c.change)).toEqual(["passing"]);
    expect(checks.startedAtMs).toEqual([5000, 10_000]);
  });

  it("an onChange that stops the runner cancels the check just scheduled", async () => {
    const clock = new FakeClock();
    const checks = new FakeChecks(clock);
    const runner: ProbeRunner = new ProbeRunner("api", "liveness", { ...CONFIG, failures: 1, initialDelayMs: 0 }, {
      clock,
      cwd: "/",
      env: {},
      run: checks.run,
      onChange: () => runner.stop(),
    });
    runner.start();
    clock.advance(0);
    await checks.end(false);
    expect(runner.state().status).toBe("failing");
    expect(clock.pending()).toBe(0);
  });

  it("counts a run() that rejects as a failed check", async () => {
    const clock = new FakeClock();
    const changes: string[] = [];
    const runner = new ProbeRunner("api", "liveness", { ...CONFIG, failures: 1, initialDelayMs: 0 }, {
      clock,
      cwd: "/",
      env: {},
      run: () => Promise.reject(new Error("boom")),
      onChange: (change) => changes.push(change),
    });
    runner.start();
    clock.advance(0);
    await new Promise((done) => setImmediate(done));
    expect(changes).toEqual(["failing"]);
    expect(runner.state().lastDetail).toBe("probe error: boom");
    runner.stop();
  });

  it("passes the check, timeout, cwd and env to run()", () => {
    const clock = new FakeClock();
    const calls: unknown[][] = [];
    const runner = new ProbeRunner("api", "liveness", { ...CONFIG, initialDelayMs: 0 }, {
      clock,
      cwd: "/srv/api",
      env: { PORT: "3000" },
      run: (...args) => {
        calls.push(args);
        return new Promise(() => undefined);
      },
      onChange: () => undefined,
    });
    runner.start();
    clock.advance(0);
    expect(calls).toEqual([[CONFIG.check, 2000, "/srv/api", { PORT: "3000" }]]);
    runner.stop();
  });
});
