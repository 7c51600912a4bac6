import { describe, expect, it } from "vitest";
import { SampleRing } from "../../../src/runtime/resources/sample-ring.js";
import type { ServiceSample } from "../../../src/runtime/resources/sampler.js";

const sample = (atMs: number, cpuPercent: number | null = 1.5): ServiceSample => ({
  atMs, cpuPercent, rssBytes: 4096 * atMs, ownCpuPercent: cpuPercent === null ? null : cpuPercent / 2, ownRssBytes: 4096, processes: 2,
});

describe("SampleRing", () => {
  it("gives back the points of the samples as they went in, oldest first, a null percent as null", () => {
    const ring = new SampleRing(3);
    ring.push(sample(1, null));
    ring.push(sample(2));
    expect(ring.toArray()).toEqual([
      { atMs: 1, cpuPercent: null, rssBytes: 4096 },
      { atMs: 2, cpuPercent: 1.5, rssBytes: 8192 },
    ]);
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

describe("SampleRing.historyJson", () => {
  const isoOf = (atMs: number): string => new Date(1_763_800_000_000 + atMs).toISOString();
  const asObjects = (ring: SampleRing): string =>
    JSON.stringify(ring.toArray().map((p) => ({ at: isoOf(p.atMs), cpu_percent: p.cpuPercent, memory_bytes: p.rssBytes })));

  it("writes the text JSON.stringify writes for the series, nulls and fractions included", () => {
    const ring = new SampleRing(4);
    expect(ring.historyJson(isoOf)).toBe("[]");
    ring.push(sample(1, null));
    ring.push(sample(2, 0.1 + 0.2));
    ring.push(sample(3, 0));
    expect(ring.historyJson(isoOf)).toBe(asObjects(ring));
    expect(JSON.parse(ring.historyJson(isoOf))[0]).toEqual({ at: isoOf(1), cpu_percent: null, memory_bytes: 4096 });
  });

  it("follows the ring once it wraps", () => {
    const ring = new SampleRing(3);
    for (let t = 1; t <= 8; t++) ring.push(sample(t, t % 2 === 0 ? null : t * 1.25));
    expect(ring.historyJson(isoOf)).toBe(asObjects(ring));
    expect(JSON.parse(ring.historyJson(isoOf)).map((p: { at: string }) => p.at)).toEqual([isoOf(6), isoOf(7), isoOf(8)]);
  });
});
