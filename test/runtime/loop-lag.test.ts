import { describe, expect, it } from "vitest";
import { LoopLag } from "../../src/runtime/loop-lag.js";
import { FakeClock } from "../support/fake-clock.js";

describe("LoopLag", () => {
  it("measures how late its 1 s timer fires, and keeps the worst of the last minute", () => {
    const clock = new FakeClock();
    const lag = new LoopLag(clock);
    lag.start();
    expect(lag.doc()).toEqual({ loop_lag_ms: 0, loop_lag_max_ms: 0 });
    clock.advance(1_000);
    expect(lag.doc()).toEqual({ loop_lag_ms: 0, loop_lag_max_ms: 0 });
    // a stalled loop: the tick due at 2 s runs at 3.5 s
    clock.stall(2_500);
    expect(lag.doc()).toEqual({ loop_lag_ms: 1_500, loop_lag_max_ms: 1_500 });
    clock.advance(1_000);
    expect(lag.doc()).toEqual({ loop_lag_ms: 0, loop_lag_max_ms: 1_500 });
    for (let i = 0; i < 60; i++) clock.advance(1_000);
    expect(lag.doc()).toEqual({ loop_lag_ms: 0, loop_lag_max_ms: 0 });
    lag.stop();
    expect(clock.pending()).toBe(0);
  });
});
