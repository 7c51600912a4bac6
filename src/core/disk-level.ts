// The disk check (`checks.disk`): a level from the used percentage, and an event only when it changes.

export type DiskLevel = "ok" | "warn" | "critical";

export interface DiskThresholds {
  readonly warnPercent: number;
  readonly criticalPercent: number;
}

export interface DiskEvent {
  /** warn / critical: crossed upwards into that level; recovered: back under the warn threshold */
  readonly kind: "warn" | "critical" | "recovered";
  readonly usedPercent: number;
  /** the threshold that was crossed */
  readonly thresholdPercent: number;
}

export interface DiskJudgement {
  readonly level: DiskLevel;
  readonly event: DiskEvent | null;
}

const RANK: Readonly<Record<DiskLevel, number>> = { ok: 0, warn: 1, critical: 2 };

/** At or above a threshold is that level. */
export function diskLevel(usedPercent: number, warnPercent: number, criticalPercent: number): DiskLevel {
  if (usedPercent >= criticalPercent) return "critical";
  if (usedPercent >= warnPercent) return "warn";
  return "ok";
}

/**
 * The next level after a measurement, and the event to log: one when rising into warn or critical,
 * one when falling back to ok; nothing while the level holds, nor when critical eases to warn.
 * A level is left downwards only hysteresisPercent under its threshold, so a disk hovering at the
 * threshold does not log on every sample.
 */
export function judgeDisk(
  previous: DiskLevel,
  usedPercent: number,
  thresholds: DiskThresholds,
  hysteresisPercent = 1,
): DiskJudgement {
  const { warnPercent, criticalPercent } = thresholds;
  let level = diskLevel(usedPercent, warnPercent, criticalPercent);
  if (RANK[level] < RANK[previous]) {
    // keep the higher level until the figure is clearly under its threshold
    const eased = diskLevel(usedPercent + hysteresisPercent, warnPercent, criticalPercent);
    if (RANK[eased] > RANK[level]) level = RANK[eased] > RANK[previous] ? previous : eased;
  }
  if (RANK[level] > RANK[previous]) {
    const thresholdPercent = level === "critical" ? criticalPercent : warnPercent;
    return { level, event: { kind: level === "critical" ? "critical" : "warn", usedPercent, thresholdPercent } };
  }
  if (level === "ok" && previous !== "ok") {
    return { level, event: { kind: "recovered", usedPercent, thresholdPercent: warnPercent } };
  }
  return { level, event: null };
}
