import { describe, expect, it } from "vitest";
import { parseDuration, parsePercent, parseSize, readDuration } from "../../src/manifest/units.js";

describe("parseDuration", () => {
  it.each([
    ["250ms", 250],
    ["5s", 5_000],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    ["1.5s", 1_500],
    ["2h30m", 9_000_000],
    ["1m 30s", 90_000],
    ["0", 0],
    ["1500", 1_500],
    [0, 0],
    [2500, 2_500],
  ])("reads %j as %d milliseconds", (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each([
    ["5 sec", /unknown duration unit "sec"/],
    ["5S", /unknown duration unit "S"/],
    ["soon", /expected a duration/],
    ["-5s", /expected a duration/],
    ["", /expected a duration/],
    [-1, /must not be negative/],
    [1.5, /whole milliseconds.*add a unit/],
    [true, /expected a duration.*got true/],
    [null, /got null/],
  ])("rejects %j with a readable message", (input, message) => {
    expect(() => parseDuration(input)).toThrow(message);
  });

  it.each([["24d", 2_073_600_000], ["2147483647ms", 2_147_483_647], [2_147_483_647, 2_147_483_647]])(
    "reads %j, within the longest delay a timer can wait",
    (input, expected) => {
      expect(parseDuration(input)).toBe(expected);
    },
  );

  // Node's setTimeout fires a longer delay after 1 ms: 30d of backoff restarted 1,000 times in 6 s
  it.each(["30d", "25d", "2147483648", 2_147_483_648, 1e300, `${"9".repeat(400)}h`, "9".repeat(400)])(
    "rejects %j as longer than a timer can wait, naming the bound",
    (input) => {
      expect(() => parseDuration(input)).toThrow(/^must be at most 2147483647ms \(about 24\.8 days, the longest a timer can wait\), got /);
    },
  );

  it("returns the message instead of throwing when read", () => {
    expect(readDuration("5 sec")).toEqual({ ok: false, message: 'unknown duration unit "sec" in "5 sec"; use ms, s, m, h or d' });
    expect(readDuration("5s")).toEqual({ ok: true, value: 5_000 });
  });
});

describe("parseSize", () => {
  it.each([
    ["512MiB", 512 * 1024 ** 2],
    ["1GB", 1e9],
    ["800KB", 800_000],
    ["1.5GiB", 1.5 * 1024 ** 3],
    ["64KiB", 65_536],
    ["100B", 100],
    ["512 mib", 512 * 1024 ** 2],
    ["4096", 4_096],
    [4096, 4_096],
    [0, 0],
  ])("reads %j as %d bytes", (input, expected) => {
    expect(parseSize(input)).toBe(expected);
  });

  it.each([
    ["512M", /unknown size unit "M".*MiB/],
    ["lots", /expected a size/],
    ["1.5", /whole bytes/],
    [-1, /must not be negative/],
    [[1], /got a list/],
  ])("rejects %j with a readable message", (input, message) => {
    expect(() => parseSize(input)).toThrow(message);
  });
});

describe("the upper bound of sizes", () => {
  it("reads up to 1024TiB", () => {
    expect(parseSize("1024TiB")).toBe(2 ** 50);
    expect(parseSize(2 ** 50)).toBe(2 ** 50);
  });

  it.each(["1025TiB", "2000TB", 2 ** 50 + 1, 1e300, `${"9".repeat(400)}GB`, "9".repeat(400)])("rejects %j, naming the bound", (input) => {
    expect(() => parseSize(input)).toThrow(/^must be at most 1125899906842624 bytes \(1024TiB\), got /);
  });
});

describe("parsePercent", () => {
  it.each([
    ["95%", 95],
    ["150%", 150],
    ["12.5%", 12.5],
    [80, 80],
  ])("reads %j as %d percent", (input, expected) => {
    expect(parsePercent(input)).toBe(expected);
  });

  it.each([["95"], ["%"], ["lots%"], [-5], [{}], [`${"9".repeat(400)}%`]])("rejects %j", (input) => {
    expect(() => parsePercent(input)).toThrow(/expected a percentage/);
  });
});
