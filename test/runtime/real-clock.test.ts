import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { realClock } from "../../src/runtime/real-clock.js";

const DAY_MS = 86_400_000;

describe("the real clock", () => {
  beforeEach(() => {
    // vitest's fake timers fire a delay over 2^31-1 ms after 1 ms, as Node's do
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("waits out a delay longer than a timer can hold (30 days), and fires it once", () => {
    const fn = vi.fn();
    realClock.setTimer(30 * DAY_MS, fn);
    vi.advanceTimersByTime(1_000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY_MS - 1_000 - 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60 * DAY_MS);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("cancels a long delay before and after its first step", () => {
    const early = vi.fn();
    realClock.clearTimer(realClock.setTimer(60 * DAY_MS, early));
    const late = vi.fn();
    const handle = realClock.setTimer(60 * DAY_MS, late);
    vi.advanceTimersByTime(40 * DAY_MS);
    realClock.clearTimer(handle);
    vi.advanceTimersByTime(40 * DAY_MS);
    expect(early).not.toHaveBeenCalled();
    expect(late).not.toHaveBeenCalled();
  });

  it("keeps the short delays as they were: 0 on the next turn, the longest plain one on time", () => {
    const now = vi.fn();
    const longest = vi.fn();
    realClock.setTimer(0, now);
    realClock.setTimer(2 ** 31 - 1, longest);
    vi.advanceTimersByTime(0);
    expect(now).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(2 ** 31 - 2);
    expect(longest).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(longest).toHaveBeenCalledTimes(1);
  });
});
