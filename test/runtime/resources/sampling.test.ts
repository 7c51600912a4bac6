import { describe, expect, it } from "vitest";
import type { Input } from "../../../src/core/stack/inputs.js";
import { fullPaceFor, IDLE_SAMPLE_MS, LIVE_HOLD_MS, Sampling } from "../../../src/runtime/resources/sampling.js";
import { FakeClock } from "../../support/fake-clock.js";

const INTERVAL_MS = 2_000;

/** a sampler of no children (the sweep reads /proc for real), whose sweeps are counted */
function sampling(fullPace: string | null = null) {
  const clock = new FakeClock();
  const posted: Input[] = [];
  const s = new Sampling(
    { clock, post: (input) => posted.push(input), pids: () => new Map(), adopt: () => undefined, onError: (err) => { throw err; } },
    { intervalMs: INTERVAL_MS, diskPath: "/", fullPaceFor: fullPace },
  );
  /** lets the sweep that a timer started finish (it reads /proc and the disk asynchronously) */
  const settle = async (sweeps: number): Promise<void> => {
    for (let i = 0; i < 2000 && posted.length < sweeps; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(posted).toHaveLength(sweeps);
  };
  return { clock, posted, s, settle };
}

describe("the resource sampling pace", () => {
  it("samples once in IDLE_SAMPLE_MS when nothing needs fresh figures, and says so", async () => {
    const { clock, s, settle } = sampling();
    s.start();
    clock.advance(0);
    await settle(1);
    expect(s.pace()).toEqual({ pace: "idle", interval_ms: IDLE_SAMPLE_MS, because: "none" });
    expect(clock.nextDueMs()).toBe(IDLE_SAMPLE_MS);
    clock.advance(IDLE_SAMPLE_MS - 1);
    await settle(1);
    clock.advance(1);
    await settle(2);
    s.stop();
    expect(clock.pending()).toBe(0);
  });

  it("samples a child just started twice, an interval apart (CPU needs two samples), then goes back to the idle pace", async () => {
    const { clock, s, settle } = sampling();
    s.start();
    clock.advance(0);
    await settle(1);
    expect(clock.nextDueMs()).toBe(IDLE_SAMPLE_MS);
    clock.advance(500);
    s.spawned();
    expect(clock.nextDueMs()).toBe(INTERVAL_MS);
    clock.advance(INTERVAL_MS - 500);
    await settle(2);
    expect(clock.nextDueMs()).toBe(2 * INTERVAL_MS);
    clock.advance(INTERVAL_MS);
    await settle(3);
    // nothing started since: the idle pace again
    expect(clock.nextDueMs()).toBe(2 * INTERVAL_MS + IDLE_SAMPLE_MS);
    expect(s.pace()).toEqual({ pace: "idle", interval_ms: IDLE_SAMPLE_MS, because: "none" });
    s.stop();
  });

  it("samples every interval for what the manifest needs it for", async () => {
    const { clock, s, settle } = sampling("limits");
    s.start();
    clock.advance(0);
    await settle(1);
    expect(s.pace()).toEqual({ pace: "full", interval_ms: INTERVAL_MS, because: "limits" });
    clock.advance(INTERVAL_MS);
    await settle(2);
    s.stop();
  });

  it("quickens at once for a watcher, and slows down once the last one has gone", async () => {
    const { clock, s, settle } = sampling();
    s.start();
    clock.advance(0);
    await settle(1);
    clock.advance(500);
    const release = s.watch();
    // due one interval after the last sweep, not 30 s after it
    expect(clock.nextDueMs()).toBe(INTERVAL_MS);
    expect(s.pace()).toEqual({ pace: "full", interval_ms: INTERVAL_MS, because: "watched" });
    clock.advance(INTERVAL_MS - 500);
    await settle(2);
    release();
    release();
    expect(s.pace().pace).toBe("idle");
    clock.advance(INTERVAL_MS);
    await settle(3);
    // the sweep armed after the watcher left waits the idle pace
    expect(clock.nextDueMs()).toBe(3 * INTERVAL_MS + IDLE_SAMPLE_MS - INTERVAL_MS);
    s.stop();
  });

  it("keeps the full pace for a while after each read of live figures (status --watch, a scrape)", async () => {
    const { clock, s, settle } = sampling();
    s.start();
    clock.advance(0);
    await settle(1);
    s.touch();
    expect(s.pace().because).toBe("watched");
    clock.advance(LIVE_HOLD_MS - 1);
    expect(s.pace().pace).toBe("full");
    clock.advance(1);
    expect(s.pace().pace).toBe("idle");
    s.stop();
  });

  it("needs the full pace for limits, a disk or host check or an interval written in the manifest", () => {
    const m = (over: object) => ({ services: [{ limits: null }], checks: { disk: null }, resources: { intervalSet: false }, ...over });
    expect(fullPaceFor(m({}))).toBeNull();
    expect(fullPaceFor(m({ services: [{ limits: null }, { limits: { memoryBytes: 1 } }] }))).toBe("limits");
    expect(fullPaceFor(m({ checks: { disk: { path: "/" } } }))).toBe("disk-check");
    expect(fullPaceFor(m({ checks: { disk: null, cpu: { warn: 80, critical: 95 } } }))).toBe("host-check");
    expect(fullPaceFor(m({ checks: { disk: null, memory: { warn: 80, critical: 95 } } }))).toBe("host-check");
    expect(fullPaceFor(m({ resources: { intervalSet: true } }))).toBe("interval-set");
  });
});
