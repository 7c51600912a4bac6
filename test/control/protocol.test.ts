import { describe, expect, it } from "vitest";
import { parseRequest } from "../../src/control/protocol.js";

describe("parseRequest", () => {
  it("takes a beats query's times only where a Date can hold them", () => {
    expect(parseRequest({ cmd: "beats", names: ["api"], since: 1_700_000_000_000, until: 1_700_000_060_000 })).toEqual({
      cmd: "beats",
      names: ["api"],
      since: 1_700_000_000_000,
      until: 1_700_000_060_000,
    });
    expect(parseRequest({ cmd: "beats", since: 8.64e15, until: -8.64e15 })).toMatchObject({ since: 8.64e15, until: -8.64e15 });
    // each of these reached the stack and failed there as an internal error ("Invalid time value")
    for (const bad of [{ since: 1e308 }, { until: 1e308 }, { since: 8.65e15 }, { since: -8.65e15 }, { until: Number.NaN }, { since: "1" }]) {
      expect(parseRequest({ cmd: "beats", ...bad }), JSON.stringify(bad)).toEqual(expect.stringMatching(/^(since|until) must be a time in milliseconds/));
    }
  });
});
