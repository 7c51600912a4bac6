import { describe, expect, it } from "vitest";
import { SampleRing } from "../../../src/runtime/resources/sample-ring.js";
import type { ServiceSample } from "../../../src/runtime/resources/sampler.js";

const sample = (atMs: number, cpuPercent: number | null = 1.5): ServiceSample => ({
  atMs, cpuPercent, rssBytes: 4096 * atMs, ownCpuPercent: cpuPercent === null ? null : cpuPercent / 2, ownRssBytes: 4096, processes: 2,
});

describe("SampleRing", () => {
  it("gives back the samples as they went in, oldest first, a null percent as null", () => {
    const ring = new SampleRing(3);
    ring.push(sample(1, null));
    ring.push(sample(2));
    expect(ring.toArray()).toEqual([sample(1, null), sample(2)]);
  });

  it("keeps the last `size` once full", () => {
    const ring = new SampleRing(3);
    for (let t = 1; t <= 7; t++) ring.push(sample(t));
    expect(ring.toArray().map((s) => s.atMs)).toEqual([5, 6, 7]);
  });

  it("keeps nothing with size 0", () => {
    const ring = new SampleRing(0);
    ring.push(sample(1));
    expect(ring.toArray()).toEqual([]);
  });
});
