import { describe, expect, it } from "vitest";
import { formatMs } from "../../src/core/format.js";

describe("formatMs", () => {
  it.each([
    [0, "0ms"],
    [200, "200ms"],
    [1000, "1s"],
    [1500, "1.5s"],
    [30_000, "30s"],
    [60_000, "1m"],
    [300_000, "5m"],
    [90_000, "1.5m"],
    [3_600_000, "1h"],
    [5_400_000, "1.5h"],
  ])("writes %i ms as %s", (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });
});
