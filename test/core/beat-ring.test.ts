import { describe, expect, it } from "vitest";
import { BeatRing } from "../../src/core/beat-ring.js";

describe("BeatRing", () => {
  it("holds no times until the first beat, then room for all of them", () => {
    const ring = new BeatRing(100);
    expect(ring.timesBytes).toBe(0);
    expect(ring.between(-Infinity, Infinity)).toEqual([]);
    ring.push(1, 1_000, undefined);
    expect(ring.timesBytes).toBe(100 * 2 * 8);
  });

  it("keeps the last `size` beats, oldest first, with their data", () => {
    const ring = new BeatRing(3);
    for (let i = 1; i <= 5; i++) ring.push(i, 1_000 * i, i === 4 ? { n: 4 } : undefined);
    expect(ring.between(-Infinity, Infinity)).toEqual([
      { atMs: 3, wallMs: 3_000, data: undefined },
      { atMs: 4, wallMs: 4_000, data: { n: 4 } },
      { atMs: 5, wallMs: 5_000, data: undefined },
    ]);
  });

  it("answers a window of wall time, both ends included", () => {
    const ring = new BeatRing(10);
    for (let i = 1; i <= 6; i++) ring.push(i, 1_000 * i, undefined);
    expect(ring.between(2_000, 4_000).map((b) => b.wallMs)).toEqual([2_000, 3_000, 4_000]);
  });

  it("of size 0 keeps nothing and makes nothing", () => {
    const ring = new BeatRing(0);
    ring.push(1, 1_000, { x: 1 });
    expect(ring.between(-Infinity, Infinity)).toEqual([]);
    expect(ring.timesBytes).toBe(0);
  });
});
