import { describe, expect, it } from "vitest";
import { diskLevel, judgeDisk, type DiskEvent, type DiskLevel } from "../../src/core/disk-level.js";

const thresholds = { warnPercent: 85, criticalPercent: 95 };

/** Feeds used percentages from ok and returns the events (null where none). */
function events(...used: number[]): (DiskEvent["kind"] | null)[] {
  let level: DiskLevel = "ok";
  return used.map((u) => {
    const j = judgeDisk(level, u, thresholds);
    level = j.level;
    return j.event?.kind ?? null;
  });
}

describe("diskLevel", () => {
  it("is the level whose threshold is reached", () => {
    expect(diskLevel(10, 85, 95)).toBe("ok");
    expect(diskLevel(84.9, 85, 95)).toBe("ok");
    expect(diskLevel(85, 85, 95)).toBe("warn");
    expect(diskLevel(94.9, 85, 95)).toBe("warn");
    expect(diskLevel(95, 85, 95)).toBe("critical");
    expect(diskLevel(100, 85, 95)).toBe("critical");
  });
});

describe("judgeDisk", () => {
  it("warns once when the warn threshold is crossed, not on every sample above it", () => {
    expect(events(50, 86, 87, 88, 86)).toEqual([null, "warn", null, null, null]);
  });

  it("gives a critical event when critical is crossed, from ok or from warn", () => {
    expect(events(96)).toEqual(["critical"]);
    expect(events(86, 96, 97)).toEqual(["warn", "critical", null]);
  });

  it("reports the figure and the threshold crossed", () => {
    expect(judgeDisk("ok", 96.5, thresholds).event).toEqual({ kind: "critical", usedPercent: 96.5, thresholdPercent: 95 });
    expect(judgeDisk("warn", 50, thresholds).event).toEqual({ kind: "recovered", usedPercent: 50, thresholdPercent: 85 });
  });

  it("warns again after recovering", () => {
    expect(events(86, 70, 86)).toEqual(["warn", "recovered", "warn"]);
    expect(events(96, 50, 96)).toEqual(["critical", "recovered", "critical"]);
  });

  it("says nothing when critical eases to warn, and raises critical again when it returns", () => {
    const levels: DiskLevel[] = [];
    let level: DiskLevel = "ok";
    const kinds = [96, 90, 96].map((u) => {
      const j = judgeDisk(level, u, thresholds);
      level = j.level;
      levels.push(level);
      return j.event?.kind ?? null;
    });
    expect(kinds).toEqual(["critical", null, "critical"]);
    expect(levels).toEqual(["critical", "warn", "critical"]);
  });

  it("does not flap on a disk hovering at a threshold", () => {
    expect(events(85.2, 84.6, 85.1, 84.3, 85.4)).toEqual(["warn", null, null, null, null]);
    expect(events(85.2, 83.9)).toEqual(["warn", "recovered"]);
    expect(judgeDisk("critical", 94.5, thresholds)).toEqual({ level: "critical", event: null });
  });

  it("takes the hysteresis as an argument", () => {
    expect(judgeDisk("warn", 84.5, thresholds, 0).event?.kind).toBe("recovered");
  });
});
