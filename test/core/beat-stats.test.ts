import { describe, expect, it } from "vitest";
import { beatStats, percentile } from "../../src/core/beat-stats.js";

describe("beatStats", () => {
  it("gives the mean, p95 and largest gap between beats, and counts the beats that came later than the interval", () => {
    // gaps: 1000 × 18, 1500, 4000
    const times = [0];
    for (let i = 0; i < 18; i++) times.push(times.at(-1)! + 1000);
    times.push(times.at(-1)! + 1500, times.at(-1)! + 1500 + 4000);
    expect(beatStats(times, 1000)).toEqual({ beats: 21, mean_interval_ms: 1175, p95_interval_ms: 1500, max_interval_ms: 4000, late: 2 });
  });

  it("has no intervals with fewer than two beats, and no late count without a heartbeat interval", () => {
    expect(beatStats([], 1000)).toEqual({ beats: 0, mean_interval_ms: null, p95_interval_ms: null, max_interval_ms: null, late: 0 });
    expect(beatStats([5], null)).toEqual({ beats: 1, mean_interval_ms: null, p95_interval_ms: null, max_interval_ms: null, late: null });
    expect(beatStats([0, 10, 30], null)).toMatchObject({ mean_interval_ms: 15, late: null });
  });

  it("leaves out the gap across the spawn of a new child", () => {
    // beats of one child at 0, 1000, 2000; a new child spawned at 2500 beats at 60,000 and 61,000
    expect(beatStats([0, 1000, 2000, 60_000, 61_000], 1000, [-5, 2500])).toEqual({ beats: 5, mean_interval_ms: 1000, p95_interval_ms: 1000, max_interval_ms: 1000, late: 0 });
    expect(beatStats([0, 1000, 2000, 60_000, 61_000], 1000, [])).toMatchObject({ max_interval_ms: 58_000, late: 1 });
  });

  it("takes the nearest rank", () => {
    expect(percentile([1, 2, 3, 4], 0.95)).toBe(4);
    expect(percentile([7], 0.95)).toBe(7);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
  });
});
