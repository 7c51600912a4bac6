import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { beat, healthNow, newWatch, observe, timerFired, type BeatWatch } from "../../src/core/beat-watch.js";

/** A watch and the one timer its caller keeps for it, on a clock the test moves. */
class Watched {
  readonly w: BeatWatch;
  dueMs: number | null;
  fires = 0;
  arms = 0;
  /** each level announced, with the time it was announced at */
  readonly levels: Array<{ level: string; atMs: number }> = [];

  constructor(
    intervalMs: number,
    misses: number,
    private readonly moveEarly = true,
  ) {
    this.w = newWatch({ intervalMs, misses, startupGraceMs: 0 }, 0);
    this.dueMs = this.w.startupDeadlineMs;
  }

  /** runs the timer for every deadline up to `nowMs`, then takes a beat at `nowMs` */
  beatAt(nowMs: number): void {
    this.until(nowMs);
    const outcome = beat(this.w, nowMs, this.moveEarly);
    if (outcome.arm !== null) {
      this.arms++;
      this.dueMs = nowMs + outcome.arm;
    }
  }

  until(nowMs: number): void {
    while (this.dueMs !== null && this.dueMs <= nowMs) {
      const at = this.dueMs;
      this.dueMs = null;
      this.fires++;
      const outcome = timerFired(this.w, at);
      for (const level of outcome.steps) this.levels.push({ level, atMs: at });
      if (outcome.arm !== null) this.dueMs = at + outcome.arm;
    }
  }
}

describe("a heartbeat watch's timer, moved early (the stack's timer heap)", () => {
  it("never fires while a child beats every half interval, and is moved once a beat", () => {
    const x = new Watched(2_000, 3);
    for (let t = 1_000; t <= 60_000; t += 1_000) x.beatAt(t);
    expect(x.fires).toBe(0);
    expect(x.arms).toBe(60);
    expect(x.levels).toEqual([]);
  });

  it("never fires while the beats of a child beating every half interval come up to a quarter interval late or early", () => {
    const x = new Watched(2_000, 3);
    let t = 0;
    for (let i = 0; i < 200; i++) x.beatAt((t += i % 2 === 0 ? 1_499 : 501));
    for (let i = 0; i < 200; i++) x.beatAt((t += 500 + ((i * 7919) % 1_000)));
    expect(x.fires).toBe(0);
  });

  it("is moved about once every quarter of its first change, not once a beat, for a child beating 20 times an interval", () => {
    const x = new Watched(2_000, 3);
    for (let t = 100; t <= 60_000; t += 100) x.beatAt(t);
    expect(x.fires).toBe(0);
    // 600 beats; a move each time the timer comes within 1.5 s of being due: every fifth beat
    expect(x.arms).toBeGreaterThanOrEqual(115);
    expect(x.arms).toBeLessThanOrEqual(125);
  });

  it("announces degraded, critical and failed at the exact ages after the last beat, whatever the beats before, moved early or not", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 2_500 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), (gaps, misses, moveEarly) => {
        const intervalMs = 1_000;
        const x = new Watched(intervalMs, misses, moveEarly);
        let t = 0;
        let lastBeatMs = 0;
        x.levels.length = 0;
        for (const gap of gaps) {
          t += gap;
          x.beatAt(t);
          lastBeatMs = t;
        }
        const before = x.levels.length;
        x.until(lastBeatMs + misses * intervalMs + 10_000);
        const after = x.levels.slice(before);
        const expected =
          misses === 1
            ? [{ level: "failed", atMs: lastBeatMs + intervalMs }]
            : misses === 2
              ? [{ level: "degraded", atMs: lastBeatMs + intervalMs }, { level: "failed", atMs: lastBeatMs + 2 * intervalMs }]
              : [
                  { level: "degraded", atMs: lastBeatMs + intervalMs },
                  { level: "critical", atMs: lastBeatMs + 2 * intervalMs },
                  { level: "failed", atMs: lastBeatMs + misses * intervalMs },
                ];
        expect(after).toEqual(expected);
      }),
    );
  });
});

describe("a heartbeat watch's timer, not moved early (a clock timer per arming)", () => {
  it("is armed once a beat never, but fires once per interval minus the beat gap to look again", () => {
    const x = new Watched(1_000, 3, false);
    for (let t = 100; t <= 100_000; t += 100) x.beatAt(t);
    expect(x.levels).toEqual([]);
    expect(x.arms).toBe(1);
    expect(x.fires).toBeGreaterThanOrEqual(100);
    expect(x.fires).toBeLessThanOrEqual(Math.ceil(100_000 / 900) + 1);
  });
});

describe("healthNow", () => {
  it("is observe().health, before the first beat and after", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 30_000 }), fc.option(fc.integer({ min: 0, max: 30_000 })), (intervalMs, misses, nowMs, beatMs) => {
        const w = newWatch({ intervalMs, misses, startupGraceMs: 1_000 }, 0);
        if (beatMs !== null && beatMs <= nowMs) beat(w, beatMs);
        expect(healthNow(w, nowMs)).toBe(observe(w, nowMs).health);
      }),
    );
  });
});
