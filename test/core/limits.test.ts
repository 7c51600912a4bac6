import { describe, expect, it } from "vitest";
import {
  formatBreach,
  formatBytes,
  formatPercent,
  judgeLimits,
  type LimitJudgement,
  type LimitSample,
  type LimitState,
} from "../../src/core/limits.js";
import type { LimitsConfig } from "../../src/manifest/types.js";

const MiB = 1024 * 1024;
const limits: LimitsConfig = { memoryBytes: 512 * MiB, cpuPercent: 95, forMs: 30_000 };

/** Feeds samples in order and returns every judgement. */
function feed(samples: readonly LimitSample[], config: LimitsConfig = limits): LimitJudgement[] {
  let state: LimitState | undefined;
  return samples.map((sample) => {
    const judgement = judgeLimits(state, sample, config);
    state = judgement.state;
    return judgement;
  });
}

/** One sample every 2 s from t=0 with these memory figures (cpu well under). */
function memory(...mib: number[]): LimitSample[] {
  return mib.map((m, i) => ({ atMs: i * 2000, cpuPercent: 1, rssBytes: m * MiB }));
}

/** One sample every 2 s from t=0 with these cpu figures (memory well under). */
function cpu(...percents: (number | null)[]): LimitSample[] {
  return percents.map((p, i) => ({ atMs: i * 2000, cpuPercent: p, rssBytes: 10 * MiB }));
}

const breaches = (js: LimitJudgement[]) => js.map((j, i) => (j.breach ? i : -1)).filter((i) => i >= 0);

describe("judgeLimits", () => {
  it("reports memory over the limit on every sample for `for`, with the figure and the limit", () => {
    // over from t=0; t=30s is the 16th sample
    const js = feed(memory(...Array.from({ length: 16 }, () => 600)));
    expect(breaches(js)).toEqual([15]);
    expect(js[15]!.breach).toEqual({ kind: "memory", measured: 600 * MiB, limit: 512 * MiB, overForMs: 30_000 });
  });

  it("does not restart for a single spike", () => {
    const js = feed(memory(100, 900, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100));
    expect(breaches(js)).toEqual([]);
  });

  it("starts the run anew after one sample under the limit", () => {
    const overs = Array.from({ length: 14 }, () => 600);
    // 14 over (26 s), one under, then 16 over: only the second run is long enough
    const js = feed(memory(...overs, 500, ...overs, 600, 600));
    expect(breaches(js)).toEqual([30]);
    expect(js[30]!.breach?.overForMs).toBe(30_000);
  });

  it("counts a figure equal to the limit as not over", () => {
    const js = feed(memory(...Array.from({ length: 20 }, () => 512)));
    expect(breaches(js)).toEqual([]);
  });

  it("reports the latest measured figure", () => {
    const js = feed(memory(...Array.from({ length: 15 }, () => 600), 700));
    expect(js[15]!.breach?.measured).toBe(700 * MiB);
  });

  it("judges cpu in percent of one core", () => {
    const js = feed(cpu(...Array.from({ length: 16 }, () => 180)));
    expect(js[15]!.breach).toEqual({ kind: "cpu", measured: 180, limit: 95, overForMs: 30_000 });
  });

  it("neither counts nor resets on a cpu figure that is not yet known", () => {
    // unknown first, then over from t=2s: the run starts at 2s and reaches 30s at t=32s (index 16)
    const fromStart = feed(cpu(null, ...Array.from({ length: 16 }, () => 180)));
    expect(breaches(fromStart)).toEqual([16]);
    // an unknown figure in the middle of a run keeps the run going from where it began
    const middle = feed(cpu(...Array.from({ length: 8 }, () => 180), null, ...Array.from({ length: 7 }, () => 180)));
    expect(breaches(middle)).toEqual([15]);
    expect(middle[15]!.breach?.overForMs).toBe(30_000);
  });

  it("names memory when both are over", () => {
    const both = Array.from({ length: 16 }, (_, i) => ({ atMs: i * 2000, cpuPercent: 180, rssBytes: 600 * MiB }));
    expect(feed(both)[15]!.breach?.kind).toBe("memory");
  });

  it("starts over after a breach, so a long run gives one breach per `for`", () => {
    const js = feed(memory(...Array.from({ length: 40 }, () => 600)));
    // breach at t=30s; the next run begins at t=32s and reaches 30s at t=62s (index 31)
    expect(breaches(js)).toEqual([15, 31]);
  });

  it("breaches on the first over sample when `for` is 0", () => {
    const js = feed(memory(100, 600), { ...limits, forMs: 0 });
    expect(breaches(js)).toEqual([1]);
    expect(js[1]!.breach?.overForMs).toBe(0);
  });

  it("ignores a kind without a limit", () => {
    const js = feed(memory(...Array.from({ length: 20 }, () => 5000)), { memoryBytes: null, cpuPercent: 95, forMs: 0 });
    expect(breaches(js)).toEqual([]);
    expect(js[19]!.state).toEqual({ memory: null, cpu: null });
  });

  it("keeps the start of the run in its state", () => {
    const [, second] = feed(memory(100, 600, 600));
    expect(second!.state.memory).toEqual({ sinceMs: 2000, measured: 600 * MiB });
  });
});

describe("formatBreach", () => {
  it("writes memory in binary units with the duration", () => {
    expect(formatBreach({ kind: "memory", measured: 612 * MiB, limit: 512 * MiB, overForMs: 30_000 })).toBe(
      "memory 612MiB over limit 512MiB for 30s",
    );
  });

  it("writes cpu in percent", () => {
    expect(formatBreach({ kind: "cpu", measured: 180.4, limit: 95, overForMs: 90_000 })).toBe(
      "cpu 180% over limit 95% for 1.5m",
    );
  });
});

describe("formatBytes / formatPercent", () => {
  it("keeps one decimal below ten units", () => {
    expect(formatBytes(512)).toBe("512B");
    expect(formatBytes(1536)).toBe("1.5KiB");
    expect(formatBytes(1.5 * 1024 * MiB)).toBe("1.5GiB");
    expect(formatBytes(2 * MiB)).toBe("2MiB");
    expect(formatBytes(48234496)).toBe("46MiB");
  });

  it("keeps one decimal below one hundred percent", () => {
    expect(formatPercent(95.5)).toBe("95.5%");
    expect(formatPercent(7.25)).toBe("7.3%");
    expect(formatPercent(150)).toBe("150%");
    expect(formatPercent(0)).toBe("0%");
  });
});
