import { describe, expect, it } from "vitest";
import { LogThrottle } from "../../src/core/log-throttle.js";

describe("LogThrottle", () => {
  it("lets the first of a key through at once and holds back the rest of its quiet period", () => {
    const throttle = new LogThrottle<string>(5000);
    expect(throttle.admit("bad-json", 0)).toBe(0);
    expect(throttle.admit("bad-json", 1000)).toBeNull();
    expect(throttle.admit("bad-json", 4999)).toBeNull();
  });

  it("says how many were held back when the next one passes after the quiet period", () => {
    const throttle = new LogThrottle<string>(5000);
    throttle.admit("bad-json", 0);
    for (let t = 1; t <= 3; t++) throttle.admit("bad-json", t);
    expect(throttle.admit("bad-json", 5000)).toBe(3);
    expect(throttle.admit("bad-json", 10_000)).toBe(0);
  });

  it("keeps a quiet period per key", () => {
    const throttle = new LogThrottle<number>(30_000);
    expect(throttle.admit(0, 0)).toBe(0);
    expect(throttle.admit(1, 10)).toBe(0);
    expect(throttle.admit(0, 20)).toBeNull();
  });
});
