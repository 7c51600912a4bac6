import { describe, expect, it } from "vitest";
import {
  healthAt,
  healthLadder,
  isAtLeast,
  nextChangeInMs,
  startupDeadlineMs,
  startupHealthAt,
} from "../../src/core/heartbeat-health.js";

describe("healthAt", () => {
  it("is healthy from age 0 until just before one interval", () => {
    expect(healthAt(0, 1000, 3)).toBe("healthy");
    expect(healthAt(999, 1000, 3)).toBe("healthy");
  });

  it("turns degraded exactly at one interval and stays so until just before two", () => {
    expect(healthAt(1000, 1000, 3)).toBe("degraded");
    expect(healthAt(1999, 1000, 3)).toBe("degraded");
  });

  it("turns critical exactly at two intervals and stays so until just before misses intervals", () => {
    expect(healthAt(2000, 1000, 3)).toBe("critical");
    expect(healthAt(2999, 1000, 3)).toBe("critical");
  });

  it("turns failed exactly at misses intervals and stays failed", () => {
    expect(healthAt(3000, 1000, 3)).toBe("failed");
    expect(healthAt(1e9, 1000, 3)).toBe("failed");
  });

  it("goes from degraded straight to failed when misses is 2", () => {
    expect(healthAt(1999, 1000, 2)).toBe("degraded");
    expect(healthAt(2000, 1000, 2)).toBe("failed");
  });

  it("goes from healthy straight to failed when misses is 1", () => {
    expect(healthAt(999, 1000, 1)).toBe("healthy");
    expect(healthAt(1000, 1000, 1)).toBe("failed");
  });
});

describe("nextChangeInMs", () => {
  it("counts down to each boundary in turn", () => {
    expect(nextChangeInMs(0, 1000, 3)).toBe(1000);
    expect(nextChangeInMs(400, 1000, 3)).toBe(600);
    expect(nextChangeInMs(1000, 1000, 3)).toBe(1000);
    expect(nextChangeInMs(2500, 1000, 3)).toBe(500);
  });

  it("is null once failed", () => {
    expect(nextChangeInMs(3000, 1000, 3)).toBeNull();
    expect(nextChangeInMs(5000, 1000, 3)).toBeNull();
  });

  it("points at failed, not at the skipped critical level, when misses is at most 2", () => {
    expect(nextChangeInMs(1500, 1000, 2)).toBe(500);
    expect(nextChangeInMs(0, 1000, 1)).toBe(1000);
  });

  it("always agrees with healthAt: the level differs exactly after the returned delay", () => {
    for (const misses of [1, 2, 3, 5]) {
      for (let age = 0; age < misses * 100; age += 7) {
        const delay = nextChangeInMs(age, 100, misses)!;
        expect(healthAt(age + delay - 1e-6, 100, misses)).toBe(healthAt(age, 100, misses));
        expect(healthAt(age + delay, 100, misses)).not.toBe(healthAt(age, 100, misses));
      }
    }
  });
});

describe("healthLadder", () => {
  it("lists every level a silent service passes through", () => {
    expect(healthLadder(1000, 3)).toEqual(["healthy", "degraded", "critical", "failed"]);
    expect(healthLadder(1000, 2)).toEqual(["healthy", "degraded", "failed"]);
    expect(healthLadder(1000, 1)).toEqual(["healthy", "failed"]);
  });
});

describe("before the first beat", () => {
  it("fails at misses × interval when the grace is shorter", () => {
    expect(startupDeadlineMs(1000, 3, 500)).toBe(3000);
    expect(startupHealthAt(2999, 1000, 3, 500)).toBe("unknown");
    expect(startupHealthAt(3000, 1000, 3, 500)).toBe("failed");
  });

  it("fails at the end of the grace when the grace is longer", () => {
    expect(startupDeadlineMs(1000, 3, 30_000)).toBe(30_000);
    expect(startupHealthAt(29_999, 1000, 3, 30_000)).toBe("unknown");
    expect(startupHealthAt(30_000, 1000, 3, 30_000)).toBe("failed");
  });
});

describe("isAtLeast", () => {
  it("orders healthy < degraded < critical < failed, with unknown below all", () => {
    expect(isAtLeast("critical", "degraded")).toBe(true);
    expect(isAtLeast("degraded", "critical")).toBe(false);
    expect(isAtLeast("failed", "failed")).toBe(true);
    expect(isAtLeast("unknown", "degraded")).toBe(false);
    expect(isAtLeast("healthy", "degraded")).toBe(false);
  });
});
