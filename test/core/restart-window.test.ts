import { describe, expect, it } from "vitest";
import { addRestart } from "../../src/core/restart-window.js";

/** Feeds restarts at the given times through addRestart, as a service would, and returns each verdict. */
function restartsAt(timesMs: readonly number[], windowMs: number, maxRestarts: number) {
  let kept: readonly number[] = [];
  return timesMs.map((t) => {
    const verdict = addRestart(kept, t, windowMs, maxRestarts);
    kept = verdict.times;
    return verdict;
  });
}

describe("addRestart", () => {
  it("allows max_restarts restarts inside the window and declares the next one exceeded", () => {
    const verdicts = restartsAt([0, 100, 200, 300], 60_000, 3);
    expect(verdicts.map((v) => v.exceeded)).toEqual([false, false, false, true]);
    expect(verdicts[3]?.times).toEqual([0, 100, 200, 300]);
  });

  it("declares the very first restart exceeded with max_restarts 0", () => {
    expect(addRestart([], 1000, 60_000, 0)).toEqual({ times: [1000], exceeded: true });
  });

  it("lets old restarts slide out of the window", () => {
    const verdict = addRestart([0, 10_000, 50_000], 70_000, 60_000, 2);
    expect(verdict.times).toEqual([50_000, 70_000]);
    expect(verdict.exceeded).toBe(false);
  });

  it("with max_restarts 1, exceeds on a restart every half window but never on one every full window", () => {
    const verdicts = restartsAt([0, 30_000, 60_000, 90_000, 120_000], 60_000, 1);
    expect(verdicts.map((v) => v.exceeded)).toEqual([false, true, true, true, true]);
    const spread = restartsAt([0, 60_000, 120_000, 180_000], 60_000, 1);
    expect(spread.map((v) => v.exceeded)).toEqual([false, false, false, false]);
  });

  it("drops a restart that lies exactly windowMs in the past", () => {
    expect(addRestart([0], 60_000, 60_000, 1)).toEqual({ times: [60_000], exceeded: false });
  });

  it("keeps a restart that lies one millisecond less than windowMs in the past", () => {
    expect(addRestart([1], 60_000, 60_000, 1)).toEqual({ times: [1, 60_000], exceeded: true });
  });

  it("does not modify the times it was given", () => {
    const times = Object.freeze([0, 1000]);
    addRestart(times, 2000, 60_000, 5);
    expect(times).toEqual([0, 1000]);
  });
});
