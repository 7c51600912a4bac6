import { describe, expect, it } from "vitest";
import { attemptAfterRun, backoffDelayMs } from "../../src/core/backoff.js";
import { backoffConfig } from "./fake-config.js";

describe("backoffDelayMs", () => {
  it("grows as initial × factor^attempt", () => {
    const b = backoffConfig({ initialMs: 200, factor: 2 });
    expect([0, 1, 2, 3, 4].map((n) => backoffDelayMs(b, n, 0.5))).toEqual([200, 400, 800, 1600, 3200]);
  });

  it("supports a fractional factor", () => {
    const b = backoffConfig({ initialMs: 1000, factor: 1.5 });
    expect([0, 1, 2].map((n) => backoffDelayMs(b, n, 0.5))).toEqual([1000, 1500, 2250]);
  });

  it("is capped at max", () => {
    const b = backoffConfig({ initialMs: 200, factor: 2, maxMs: 1000 });
    expect([2, 3, 4, 10].map((n) => backoffDelayMs(b, n, 0.5))).toEqual([800, 1000, 1000, 1000]);
  });

  it("is capped at max even when initial is already above it", () => {
    expect(backoffDelayMs(backoffConfig({ initialMs: 5000, maxMs: 1000 }), 0, 0.5)).toBe(1000);
  });

  it("ignores jitter when the draw is exactly in the middle", () => {
    expect(backoffDelayMs(backoffConfig({ initialMs: 1000, jitter: 0.1 }), 0, 0.5)).toBe(1000);
  });

  it("gives the lower jitter edge for a draw of 0", () => {
    expect(backoffDelayMs(backoffConfig({ initialMs: 1000, jitter: 0.1 }), 0, 0)).toBe(900);
  });

  it("gives the upper jitter edge for a draw just below 1", () => {
    expect(backoffDelayMs(backoffConfig({ initialMs: 1000, jitter: 0.1 }), 0, 0.999_999)).toBe(1100);
  });

  it("stays within ±jitter for any draw", () => {
    const b = backoffConfig({ initialMs: 1000, jitter: 0.25 });
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelayMs(b, 0, i / 100);
      expect(delay).toBeGreaterThanOrEqual(750);
      expect(delay).toBeLessThanOrEqual(1250);
    }
  });

  it("never goes above max when jitter pushes a capped delay up", () => {
    const b = backoffConfig({ initialMs: 1000, factor: 2, maxMs: 1500, jitter: 0.5 });
    expect(backoffDelayMs(b, 5, 0.999_999)).toBe(1500);
    expect(backoffDelayMs(b, 5, 0)).toBe(750);
  });

  it("never goes negative, even with full jitter", () => {
    const b = backoffConfig({ initialMs: 1000, jitter: 1 });
    expect(backoffDelayMs(b, 0, 0)).toBe(0);
    expect(backoffDelayMs(b, 0, 0.999_999)).toBe(2000);
  });

  it("keeps the same delay for every attempt with factor 1", () => {
    const b = backoffConfig({ initialMs: 500, factor: 1 });
    expect([0, 1, 5, 100].map((n) => backoffDelayMs(b, n, 0.5))).toEqual([500, 500, 500, 500]);
  });

  it("is immediate with initial 0 and factor 1", () => {
    const b = backoffConfig({ initialMs: 0, factor: 1, jitter: 0.1 });
    expect([0, 1, 1000].map((n) => backoffDelayMs(b, n, 0.999))).toEqual([0, 0, 0]);
  });

  it("stays immediate with initial 0 however many attempts came before, whatever the factor", () => {
    // regression: 0 × 2^1100 is 0 × Infinity = NaN, which used to fall through to max
    const b = backoffConfig({ initialMs: 0, factor: 2 });
    expect(backoffDelayMs(b, 1100, 0.5)).toBe(0);
    expect(backoffDelayMs(b, Number.MAX_SAFE_INTEGER, 0.5)).toBe(0);
  });

  it("gives max, not Infinity or NaN, for huge attempt numbers", () => {
    const b = backoffConfig({ initialMs: 200, factor: 2, maxMs: 30_000, jitter: 0.1 });
    for (const attempt of [1024, 10_000, Number.MAX_SAFE_INTEGER]) {
      const delay = backoffDelayMs(b, attempt, 0.5);
      expect(Number.isFinite(delay)).toBe(true);
      expect(delay).toBe(30_000);
    }
  });

  it("returns whole milliseconds", () => {
    const delay = backoffDelayMs(backoffConfig({ initialMs: 333, jitter: 0.1 }), 0, 0.123);
    expect(Number.isInteger(delay)).toBe(true);
  });
});

describe("attemptAfterRun", () => {
  const b = backoffConfig({ resetAfterMs: 60_000 });

  it("keeps the attempt count after a short run", () => {
    expect(attemptAfterRun(b, 4, 59_999)).toBe(4);
  });

  it("starts over after a run of exactly reset_after", () => {
    expect(attemptAfterRun(b, 4, 60_000)).toBe(0);
  });

  it("starts over after a run longer than reset_after", () => {
    expect(attemptAfterRun(b, 4, 3_600_000)).toBe(0);
  });

  it("keeps the attempt count when the child never started", () => {
    expect(attemptAfterRun(b, 4, null)).toBe(4);
  });
});
