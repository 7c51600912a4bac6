import { describe, expect, it, vi } from "vitest";
import type { TimerHandle } from "../../src/core/clock.js";
import { HeartbeatMonitor, type HealthChange, type MonitorEventName } from "../../src/runtime/heartbeat-monitor.js";
import { FAKE_EPOCH_MS, FakeClock } from "../support/fake-clock.js";

const EVENTS: readonly MonitorEventName[] = ["degraded", "critical", "failed", "recovered"];

function setup(options: ConstructorParameters<typeof HeartbeatMonitor>[1] = {}, clock = new FakeClock()) {
  const monitor = new HeartbeatMonitor(clock, options);
  const seen: (HealthChange & { event: MonitorEventName; atMs: number })[] = [];
  for (const event of EVENTS) monitor.on(event, (change) => seen.push({ event, atMs: clock.now(), ...change }));
  return { clock, monitor, seen, names: () => seen.map((s) => s.event) };
}

/** A clock whose timers fire `lateMs` after they are due, like a busy event loop. */
/** The next timer armed fires `lateMs` after its due time, as after a stall of the event loop. */
class LateClock extends FakeClock {
  lateMs = 0;
  override setTimer(delayMs: number, fn: () => void): TimerHandle {
    const late = this.lateMs;
    this.lateMs = 0;
    return super.setTimer(delayMs + late, fn);
  }
}

describe("HeartbeatMonitor levels", () => {
  it("announces degraded at exactly 1×, critical at 2× and failed at misses× the interval", () => {
    const { clock, monitor, seen } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api");
    clock.advance(999);
    expect(monitor.health("api")).toBe("healthy");
    expect(seen).toEqual([]);
    clock.advance(1);
    expect(monitor.health("api")).toBe("degraded");
    clock.advance(999);
    expect(monitor.health("api")).toBe("degraded");
    clock.advance(1);
    expect(monitor.health("api")).toBe("critical");
    clock.advance(999);
    expect(monitor.health("api")).toBe("critical");
    clock.advance(1);
    expect(monitor.health("api")).toBe("failed");
    expect(seen).toEqual([
      { event: "degraded", atMs: 1000, id: "api", health: "degraded", previous: "healthy", ageMs: 1000 },
      { event: "critical", atMs: 2000, id: "api", health: "critical", previous: "degraded", ageMs: 2000 },
      { event: "failed", atMs: 3000, id: "api", health: "failed", previous: "critical", ageMs: 3000 },
    ]);
  });

  it("arms no timer after failed until the next beat", () => {
    const { clock, monitor } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api");
    clock.advance(3000);
    expect(clock.pending()).toBe(0);
    monitor.beat("api");
    expect(clock.pending()).toBe(1);
  });

  it("skips critical when misses is 2: degraded, then failed at 2×", () => {
    const { clock, monitor, seen, names } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 2 });
    monitor.beat("api");
    clock.advance(2000);
    expect(names()).toEqual(["degraded", "failed"]);
    expect(seen[1]).toMatchObject({ atMs: 2000, previous: "degraded" });
  });

  it("goes from healthy straight to failed when misses is 1", () => {
    const { clock, monitor, seen } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 1 });
    monitor.beat("api");
    clock.advance(1000);
    expect(seen).toMatchObject([{ event: "failed", atMs: 1000, previous: "healthy" }]);
  });

  it("announces every skipped level in order when its timer fires late, all with the real age", () => {
    const clock = new LateClock();
    const { monitor, seen } = setup({}, clock);
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    clock.lateMs = 2500;
    monitor.beat("api");
    clock.advance(3500);
    // a late verdict of failed waits one turn for beats still unread
    expect(seen).toEqual([]);
    clock.advance(1);
    expect(seen).toEqual([
      { event: "degraded", atMs: 3501, id: "api", health: "degraded", previous: "healthy", ageMs: 3501 },
      { event: "critical", atMs: 3501, id: "api", health: "critical", previous: "degraded", ageMs: 3501 },
      { event: "failed", atMs: 3501, id: "api", health: "failed", previous: "critical", ageMs: 3501 },
    ]);
  });

  it("stops announcing skipped levels when a listener beats in between", () => {
    const clock = new LateClock();
    const { monitor, names } = setup({}, clock);
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    clock.lateMs = 2500;
    monitor.beat("api");
    monitor.on("degraded", () => monitor.beat("api"));
    clock.advance(3501);
    expect(names()).toEqual(["degraded", "recovered"]);
    expect(monitor.health("api")).toBe("healthy");
    expect(clock.pending()).toBe(1);
  });
});

describe("HeartbeatMonitor recovery", () => {
  it("emits recovered with the previous level and the gap when a degraded id beats", () => {
    const { clock, monitor, seen } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api");
    clock.advance(1500);
    monitor.beat("api");
    expect(monitor.health("api")).toBe("healthy");
    expect(seen.at(-1)).toEqual({ event: "recovered", atMs: 1500, id: "api", health: "healthy", previous: "degraded", ageMs: 1500 });
  });

  it("emits recovered from failed, and counts down afresh from the new beat", () => {
    const { clock, monitor, names } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api");
    clock.advance(5000);
    monitor.beat("api");
    clock.advance(999);
    expect(names()).toEqual(["degraded", "critical", "failed", "recovered"]);
    clock.advance(1);
    expect(names().at(-1)).toBe("degraded");
  });

  it("emits nothing for the first beat or for beats of a healthy id", () => {
    const { clock, monitor, seen } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api");
    clock.advance(500);
    monitor.beat("api");
    expect(seen).toEqual([]);
  });
});

describe("HeartbeatMonitor before the first beat", () => {
  it("is unknown, then failed at misses × interval when that is longer than the grace", () => {
    const { clock, monitor, seen } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3, startupGraceMs: 500 });
    clock.advance(2999);
    expect(monitor.health("api")).toBe("unknown");
    expect(seen).toEqual([]);
    clock.advance(1);
    expect(monitor.health("api")).toBe("failed");
    expect(seen).toEqual([{ event: "failed", atMs: 3000, id: "api", health: "failed", previous: "unknown", ageMs: 3000 }]);
    expect(clock.pending()).toBe(0);
  });

  it("is unknown through a longer grace and failed at its end, never degraded", () => {
    const { clock, monitor, names } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3, startupGraceMs: 30_000 });
    clock.advance(29_999);
    expect(monitor.health("api")).toBe("unknown");
    clock.advance(1);
    expect(names()).toEqual(["failed"]);
  });

  it("counts from the first beat, not from the grace, once a beat arrives", () => {
    const { clock, monitor, names } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3, startupGraceMs: 30_000 });
    clock.advance(100);
    monitor.beat("api");
    clock.advance(1000);
    expect(names()).toEqual(["degraded"]);
  });

  it("recovers from a startup failure when a late first beat comes", () => {
    const { clock, monitor, seen } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    clock.advance(4000);
    monitor.beat("api");
    expect(seen.at(-1)).toMatchObject({ event: "recovered", previous: "failed", ageMs: 4000 });
  });
});

describe("HeartbeatMonitor timers", () => {
  it("keeps one timer per id however many beats arrive between firings", () => {
    const { clock, monitor } = setup();
    const ids = Array.from({ length: 500 }, (_, i) => `svc-${i}`);
    for (const id of ids) monitor.watch(id, { intervalMs: 1000, misses: 3 });
    for (const id of ids) monitor.beat(id);
    const createdAfterFirstBeats = clock.created;
    for (let round = 0; round < 20; round++) {
      for (const id of ids) monitor.beat(id, round);
      clock.advance(10);
    }
    expect(clock.pending()).toBe(500);
    expect(clock.created).toBe(createdAfterFirstBeats);
  });

  it("re-arms once per interval minus the beat gap when it fires, never once per beat", () => {
    const { clock, monitor, seen } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    const before = clock.created;
    for (let i = 0; i < 1000; i++) {
      monitor.beat("api");
      clock.advance(100);
    }
    expect(seen).toEqual([]);
    // the timer fires at last beat + 1000 and finds a beat 100 ms old: every 900 ms over 100 s
    expect(clock.created - before).toBeLessThanOrEqual(Math.ceil(100_000 / 900) + 1);
    expect(clock.pending()).toBe(1);
  });

  it("cancels the timer on unwatch, ignores later beats and emits nothing more", () => {
    const { clock, monitor, seen } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api");
    monitor.unwatch("api");
    expect(clock.pending()).toBe(0);
    expect(monitor.isWatching("api")).toBe(false);
    expect(monitor.beat("api")).toBe(false);
    expect(monitor.health("api")).toBe("unknown");
    clock.advance(10_000);
    expect(seen).toEqual([]);
  });

  it("cancels every timer on unwatchAll", () => {
    const { clock, monitor } = setup();
    for (const id of ["a", "b", "c"]) monitor.watch(id, { intervalMs: 1000, misses: 3 });
    monitor.unwatchAll();
    expect(clock.pending()).toBe(0);
    expect(monitor.stats().watched).toBe(0);
  });

  it("starts over on re-watch: count, history and health reset, the old timer gone", () => {
    const { clock, monitor, names } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api", 1);
    monitor.beat("api", 2);
    clock.advance(1500);
    monitor.watch("api", { intervalMs: 2000, misses: 2 });
    expect(clock.pending()).toBe(1);
    expect(monitor.beats("api")).toBe(0);
    expect(monitor.history("api")).toEqual([]);
    expect(monitor.lastBeat("api")).toBeNull();
    expect(monitor.health("api")).toBe("unknown");
    clock.advance(3999);
    expect(names()).toEqual(["degraded"]);
    clock.advance(1);
    expect(names()).toEqual(["degraded", "failed"]);
  });

  it("rejects a non-positive interval or misses, naming the option", () => {
    const { monitor } = setup();
    expect(() => monitor.watch("api", { intervalMs: 0, misses: 3 })).toThrow(/intervalMs/);
    expect(() => monitor.watch("api", { intervalMs: 1000, misses: Number.NaN })).toThrow(/misses/);
    expect(() => monitor.watch("api", { intervalMs: 1000, misses: 3, startupGraceMs: -1 })).toThrow(/startupGraceMs/);
  });
});

describe("HeartbeatMonitor history", () => {
  it("keeps the last 100 beats, oldest first, with monotonic and wall times and data", () => {
    const { clock, monitor } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    for (let i = 0; i < 250; i++) {
      monitor.beat("api", { i });
      clock.advance(10);
    }
    const history = monitor.history("api");
    expect(history).toHaveLength(100);
    expect(history[0]).toEqual({ atMs: 1500, wallMs: FAKE_EPOCH_MS + 1500, data: { i: 150 } });
    expect(history.at(-1)).toEqual({ atMs: 2490, wallMs: FAKE_EPOCH_MS + 2490, data: { i: 249 } });
    expect(monitor.lastBeat("api")).toEqual(history.at(-1));
    expect(monitor.beats("api")).toBe(250);
  });

  it("filters by a wall-time range, both ends inclusive", () => {
    const { clock, monitor } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    for (let i = 0; i < 10; i++) {
      monitor.beat("api", i);
      clock.advance(100);
    }
    const data = (range: { sinceWallMs?: number; untilWallMs?: number }) =>
      monitor.history("api", range).map((r) => r.data);
    expect(data({ sinceWallMs: FAKE_EPOCH_MS + 300, untilWallMs: FAKE_EPOCH_MS + 500 })).toEqual([3, 4, 5]);
    expect(data({ sinceWallMs: FAKE_EPOCH_MS + 850 })).toEqual([9]);
    expect(data({ untilWallMs: FAKE_EPOCH_MS + 100 })).toEqual([0, 1]);
    expect(data({ sinceWallMs: FAKE_EPOCH_MS + 10_000 })).toEqual([]);
  });

  it("honours a smaller historySize, and an id that is not watched has none", () => {
    const { monitor } = setup({ historySize: 3 });
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    for (let i = 0; i < 5; i++) monitor.beat("api", i);
    expect(monitor.history("api").map((r) => r.data)).toEqual([2, 3, 4]);
    expect(monitor.history("nope")).toEqual([]);
  });
});

describe("HeartbeatMonitor queries", () => {
  function mixed() {
    const env = setup();
    const { clock, monitor } = env;
    for (const id of ["ok", "slow", "stuck", "dead", "new"]) monitor.watch(id, { intervalMs: 1000, misses: 3, startupGraceMs: 60_000 });
    for (const id of ["dead", "stuck", "slow", "ok"]) monitor.beat(id);
    clock.advance(1000);
    monitor.beat("stuck");
    clock.advance(1000);
    monitor.beat("slow");
    clock.advance(1500);
    monitor.beat("ok");
    return env;
  }

  it("lists the ids at or above a level, degraded by default", () => {
    const { monitor } = mixed();
    expect(monitor.unhealthy().sort()).toEqual(["dead", "slow", "stuck"]);
    expect(monitor.unhealthy("critical").sort()).toEqual(["dead", "stuck"]);
    expect(monitor.unhealthy("failed")).toEqual(["dead"]);
  });

  it("counts ids by health and sums their beats", () => {
    const { monitor } = mixed();
    expect(monitor.stats()).toEqual({ watched: 5, healthy: 1, degraded: 1, critical: 1, failed: 1, unknown: 1, totalBeats: 7 });
  });

  it("describes one id, with null times before its first beat", () => {
    const { clock, monitor } = mixed();
    expect(monitor.statsOf("slow")).toEqual({
      health: "degraded", beats: 2, intervalMs: 1000, misses: 3,
      lastBeatAtMs: 2000, lastBeatWallMs: FAKE_EPOCH_MS + 2000, ageMs: clock.now() - 2000,
    });
    expect(monitor.statsOf("new")).toMatchObject({ health: "unknown", beats: 0, lastBeatAtMs: null, lastBeatWallMs: null, ageMs: null });
    expect(monitor.statsOf("nope")).toBeNull();
  });
});

describe("HeartbeatMonitor listeners", () => {
  it("passes a listener's exception to onListenerError and still calls the others and keeps watching", () => {
    const errors: unknown[] = [];
    const { clock, monitor, names } = setup({ onListenerError: (error, event) => errors.push([event, error]) });
    const boom = new Error("boom");
    monitor.on("degraded", () => {
      throw boom;
    });
    const after = vi.fn();
    monitor.on("degraded", after);
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api");
    clock.advance(3000);
    expect(errors).toEqual([["degraded", boom]]);
    expect(after).toHaveBeenCalledOnce();
    expect(names()).toEqual(["degraded", "critical", "failed"]);
  });

  it("reports a listener's exception on console.error when no handler is given", () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const { clock, monitor } = setup();
      monitor.on("failed", () => {
        throw new Error("boom");
      });
      monitor.watch("api", { intervalMs: 1000, misses: 1 });
      clock.advance(1000);
      expect(spy).toHaveBeenCalledOnce();
    } finally {
      spy.mockRestore();
    }
  });

  it("stops calling a listener after off", () => {
    const { clock, monitor } = setup();
    const listener = vi.fn();
    monitor.on("degraded", listener).off("degraded", listener);
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api");
    clock.advance(1000);
    expect(listener).not.toHaveBeenCalled();
  });

  it("lets a failed listener re-watch the id, as a supervisor does after a respawn", () => {
    const { clock, monitor, names } = setup();
    monitor.on("failed", ({ id }) => monitor.watch(id, { intervalMs: 1000, misses: 3 }));
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    clock.advance(3000);
    expect(monitor.health("api")).toBe("unknown");
    expect(clock.pending()).toBe(1);
    clock.advance(3000);
    expect(names()).toEqual(["failed", "failed"]);
  });
});

describe("a stalled event loop", () => {
  /** api watched at 100 ms × 3 and beaten once; `failed()` lists the ids announced failed */
  function watchedApi() {
    const { clock, monitor, seen } = setup();
    monitor.watch("api", { intervalMs: 100, misses: 3 });
    monitor.beat("api");
    return { clock, monitor, failed: () => seen.filter((s) => s.event === "failed").map((s) => s.id) };
  }

  it("looks once more, a turn later, before calling a late timer's service failed", () => {
    const { clock, monitor, failed } = watchedApi();
    // the loop stalls for 2 s: the deadline passed long ago when the timers finally run
    clock.stall(2_000);
    expect(failed()).toEqual([]);
    // the beat that was waiting in the socket is read in that turn, before the second look
    monitor.beat("api");
    clock.advance(1);
    expect(failed()).toEqual([]);
    expect(monitor.health("api")).toBe("healthy");
  });

  it("still fails the service on the second look when no beat was waiting", () => {
    const { clock, monitor, failed } = watchedApi();
    clock.stall(2_000);
    expect(failed()).toEqual([]);
    clock.advance(1);
    expect(failed()).toEqual(["api"]);
  });

  it("acts on a timer that is on time without a second look", () => {
    const { clock, monitor, failed } = watchedApi();
    clock.advance(300);
    expect(failed()).toEqual(["api"]);
  });
});

describe("HeartbeatMonitor beat records", () => {
  it("keeps each beat's own data, undefined included, once some beat has carried data", () => {
    const { clock, monitor } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api");
    clock.advance(10);
    monitor.beat("api", { queue: 3 });
    clock.advance(10);
    monitor.beat("api");
    expect(monitor.history("api").map((r) => r.data)).toEqual([undefined, { queue: 3 }, undefined]);
    expect(monitor.lastBeat("api")).toEqual({ atMs: 20, wallMs: FAKE_EPOCH_MS + 20, data: undefined });
  });

  it("has no last beat before the first, and none once watched again", () => {
    const { monitor } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    expect(monitor.lastBeat("api")).toBeNull();
    monitor.beat("api", 1);
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    expect(monitor.lastBeat("api")).toBeNull();
    expect(monitor.history("api")).toEqual([]);
    expect(monitor.statsOf("api")).toMatchObject({ lastBeatAtMs: null, lastBeatWallMs: null, ageMs: null });
  });
});

describe("HeartbeatMonitor reconfigure", () => {
  it("keeps the beats and judges the same last beat by the new settings", () => {
    const { clock, monitor, names } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api");
    monitor.beat("api");
    monitor.reconfigure("api", { intervalMs: 1000, misses: 5 });
    expect(monitor.health("api")).toBe("healthy");
    expect(monitor.beats("api")).toBe(2);
    clock.advance(4_999);
    expect(monitor.health("api")).toBe("critical");
    clock.advance(1);
    expect(names()).toEqual(["degraded", "critical", "failed"]);
  });

  it("takes a better level at once and announces healthy; a worse one comes from the timer", () => {
    const { clock, monitor, names } = setup();
    monitor.watch("api", { intervalMs: 1000, misses: 3 });
    monitor.beat("api");
    clock.advance(1_500);
    expect(names()).toEqual(["degraded"]);
    monitor.reconfigure("api", { intervalMs: 2000, misses: 3 });
    expect(names()).toEqual(["degraded", "recovered"]);
    monitor.reconfigure("api", { intervalMs: 500, misses: 3 });
    expect(names()).toEqual(["degraded", "recovered"]);
    clock.advance(0);
    expect(names()).toEqual(["degraded", "recovered", "degraded", "critical", "failed"]);
  });

  it("watches an id it did not watch yet", () => {
    const { monitor } = setup();
    monitor.reconfigure("new", { intervalMs: 1000, misses: 3 });
    expect(monitor.isWatching("new")).toBe(true);
  });
});
