import { describe, expect, it } from "vitest";
import { IsoMemo, WallIso } from "../../src/runtime/iso-time.js";
import { FakeClock } from "../support/fake-clock.js";

describe("WallIso", () => {
  it("writes what toISOString writes, across minutes, hours and years", () => {
    const iso = new WallIso();
    const samples = [0, 59_999, 60_000, 1_764_000_000_123, 1_764_000_059_999, 1_764_000_060_000, 1_764_003_600_007, 253_402_300_799_999];
    for (const ms of samples) expect(iso.of(ms)).toBe(new Date(ms).toISOString());
  });

  it("hands odd instants to toISOString", () => {
    const iso = new WallIso();
    for (const ms of [1.5, -1, 253_402_300_800_000]) expect(iso.of(ms)).toBe(new Date(ms).toISOString());
    expect(() => iso.of(Number.NaN)).toThrow(RangeError);
  });
});

describe("IsoMemo", () => {
  it("turns monotonic instants into the wall-clock text of their moment, once each", () => {
    const clock = new FakeClock({ startMs: 10_000 });
    const memo = new IsoMemo(clock);
    expect(memo.ofMonotonic(null)).toBeNull();
    expect(memo.ofMonotonic(4_000)).toBe(new Date(clock.wallNow() - 6_000).toISOString());
    clock.advance(60_000);
    // formatted once: the text of an instant does not move with the clock
    expect(memo.ofMonotonic(4_000)).toBe(new Date(clock.wallNow() - 66_000).toISOString());
  });

  it("starts over past its size", () => {
    const clock = new FakeClock();
    const memo = new IsoMemo(clock, 2);
    memo.ofMonotonic(1);
    memo.ofMonotonic(2);
    clock.advance(1000);
    expect(memo.ofMonotonic(3)).toBe(new Date(clock.wallNow() - 997).toISOString());
    expect(memo.ofMonotonic(1)).toBe(new Date(clock.wallNow() - 999).toISOString());
  });
});
