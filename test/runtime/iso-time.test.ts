import { describe, expect, it } from "vitest";
import { IsoMemo, isoOfWall } from "../../src/runtime/iso-time.js";
import { FakeClock } from "../support/fake-clock.js";

describe("isoOfWall", () => {
  it("writes what Date#toISOString writes, across minutes, seconds and milliseconds", () => {
    const samples = [0, 1, 9, 10, 99, 100, 999, 1000, 59_999, 60_000, 1_763_800_000_000, 253_402_300_799_999];
    for (let i = 0; i < 20_000; i++) samples.push(Math.floor(Math.random() * 4e12));
    for (const ms of samples) expect(isoOfWall(ms)).toBe(new Date(ms).toISOString());
  });

  it("leaves what it cannot shortcut to Date: fractions, negatives, six-digit years", () => {
    for (const ms of [1.5, -1, 253_402_300_800_000]) expect(isoOfWall(ms)).toBe(new Date(ms).toISOString());
    expect(() => isoOfWall(Number.NaN)).toThrow(RangeError);
  });
});

describe("IsoMemo", () => {
  it("formats a monotonic instant once and answers the same text after", () => {
    const clock = new FakeClock();
    const memo = new IsoMemo(clock);
    const first = memo.of(clock.now());
    clock.advance(5_000);
    expect(memo.of(clock.now() - 5_000)).toBe(first);
    expect(memo.of(null)).toBeNull();
  });

  it("starts over once it holds `max` instants", () => {
    const clock = new FakeClock();
    const memo = new IsoMemo(clock, 2);
    for (const ms of [1, 2, 3]) memo.of(ms);
    expect(memo.of(3)).toBe(new Date(clock.wallNow() - (clock.now() - 3)).toISOString());
  });
});
