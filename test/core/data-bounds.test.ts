import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkData, MAX_DATA_BYTES, MAX_DATA_DEPTH } from "../../src/core/data-bounds.js";
import { fuzzParams } from "../support/fuzz.js";

const nested = (depth: number): unknown => JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`);
const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

describe("checkData", () => {
  it("takes data up to 32 deep and refuses 33, and 10,000 without a stack overflow", () => {
    expect(checkData(nested(MAX_DATA_DEPTH))).toBeNull();
    expect(checkData(nested(MAX_DATA_DEPTH + 1))).toBe("too-deep");
    expect(checkData({ a: { b: nested(MAX_DATA_DEPTH - 2) } })).toBeNull();
    expect(checkData({ a: { b: nested(MAX_DATA_DEPTH - 1) } })).toBe("too-deep");
    expect(checkData(nested(10_000))).toBe("too-deep");
    expect(checkData(7)).toBeNull();
  });

  it("takes data of exactly 16 KiB as JSON and refuses a byte more", () => {
    const fits = "x".repeat(MAX_DATA_BYTES - 2);
    expect(jsonBytes(fits)).toBe(MAX_DATA_BYTES);
    expect(checkData(fits)).toBeNull();
    expect(checkData(`${fits}x`)).toBe("too-large");
    expect(checkData(Array.from({ length: 10_000 }, () => 1))).toBe("too-large");
    expect(checkData(Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, 0])))).toBe("too-large");
  });

  it("counts escapes and UTF-8 as JSON.stringify writes them", () => {
    for (const text of ['"\\', "\n\t\u0001", "é€😀", "\ud800 lone", "\udc00"]) {
      const value = { [text]: [text, 1.5e-7, -0, true, null] };
      const size = jsonBytes(value);
      expect(checkData(value, { maxDepth: 32, maxBytes: size })).toBeNull();
      expect(checkData(value, { maxDepth: 32, maxBytes: size - 1 })).toBe("too-large");
    }
  });

  it("refuses what JSON cannot hold", () => {
    expect(checkData([undefined])).toBe("not-json");
    expect(checkData({ n: 1n })).toBe("not-json");
    expect(checkData({ f: () => 1 })).toBe("not-json");
  });

  it("agrees with JSON.stringify on the size and depth of any JSON value", () => {
    const depthOf = (value: unknown): number => {
      if (typeof value !== "object" || value === null) return 0;
      return 1 + Math.max(0, ...Object.values(value).map(depthOf));
    };
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 1, max: 8 }), (value, maxDepth) => {
        const size = jsonBytes(value);
        const depth = depthOf(value);
        const limits = { maxDepth, maxBytes: size };
        expect(checkData(value, limits)).toBe(depth > maxDepth ? "too-deep" : null);
        if (depth <= maxDepth) expect(checkData(value, { maxDepth, maxBytes: size - 1 })).toBe("too-large");
      }),
      fuzzParams(100_000),
    );
  });
});
