import { describe, expect, it } from "vitest";
import { planFds, RESERVE_FDS, serviceFds, suggestedLimit } from "../../src/core/fd-plan.js";

const plain = { ipc: false, socketBeats: false };
const ipc = { ipc: true, socketBeats: false };
const many = (n: number, shape = plain) => Array.from({ length: n }, () => shape);

describe("planFds", () => {
  it("counts a child's pipes, its heartbeat channel, and the files held for it", () => {
    expect(serviceFds(plain, false)).toBe(3);
    expect(serviceFds(ipc, false)).toBe(4);
    expect(serviceFds({ ipc: false, socketBeats: true }, true)).toBe(6);
  });

  it("holds files open and says nothing when the limit is ample", () => {
    expect(planFds(1_048_576, 22, many(1000, ipc))).toEqual({ holdFiles: true, needFds: 22 + 2 + RESERVE_FDS + 6000, spareFds: 1_048_576 - 6040, small: false });
  });

  it("gives up holding files first, when that is enough", () => {
    // held: 40 + 5 × 50 = 290 > 256 - 64; lean: 40 + 3 × 50 = 190
    expect(planFds(256, 22, many(50))).toEqual({ holdFiles: false, needFds: 190, spareFds: 66, small: false });
  });

  it("is small when even lean the stack leaves less than a reserve spare", () => {
    const plan = planFds(128, 22, many(50));
    expect(plan).toMatchObject({ holdFiles: false, needFds: 190, small: true });
    expect(plan.spareFds).toBe(-62);
  });

  it("suggests four times the need as a power of two, at least 1024", () => {
    expect(suggestedLimit(140)).toBe(1024);
    expect(suggestedLimit(5040)).toBe(32768);
  });
});
