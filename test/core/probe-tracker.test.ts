import { describe, expect, it } from "vitest";
import { INITIAL_PROBE_STATE, trackProbe, type ProbeChange, type ProbeState, type ProbeStatus } from "../../src/core/probe-tracker.js";

/** "+" a success, "-" a failure, one per check, 1000 ms apart */
function play(sequence: string, failures: number): { status: ProbeStatus; changes: (ProbeChange | null)[]; state: ProbeState } {
  let state = INITIAL_PROBE_STATE;
  const changes: (ProbeChange | null)[] = [];
  [...sequence].forEach((mark, i) => {
    const ok = mark === "+";
    const step = trackProbe(state, { ok, detail: ok ? "HTTP 200" : "HTTP 500", atMs: (i + 1) * 1000 }, failures);
    state = step.state;
    changes.push(step.changed);
  });
  return { status: state.status, changes, state };
}

describe("trackProbe", () => {
  const P = "passing" as const;
  const F = "failing" as const;
  const _ = null;
  it.each([
    { sequence: "", failures: 3, status: "unknown", changes: [] },
    { sequence: "+", failures: 3, status: "passing", changes: [P] },
    { sequence: "++", failures: 3, status: "passing", changes: [P, _] },
    { sequence: "--", failures: 3, status: "unknown", changes: [_, _] },
    { sequence: "---", failures: 3, status: "failing", changes: [_, _, F] },
    { sequence: "-", failures: 1, status: "failing", changes: [F] },
    { sequence: "+--", failures: 3, status: "passing", changes: [P, _, _] },
    { sequence: "+---", failures: 3, status: "failing", changes: [P, _, _, F] },
    { sequence: "+--+--", failures: 3, status: "passing", changes: [P, _, _, _, _, _] },
    { sequence: "---+", failures: 3, status: "passing", changes: [_, _, F, P] },
    { sequence: "-----", failures: 3, status: "failing", changes: [_, _, F, _, _] },
    { sequence: "+-+-", failures: 1, status: "failing", changes: [P, F, P, F] },
  ] as const)("reports only transitions: $sequence with failures $failures", ({ sequence, failures, status, changes }) => {
    const played = play(sequence, failures);
    expect(played.status).toBe(status);
    expect(played.changes).toEqual(changes);
  });

  it("starts unknown with no checks", () => {
    expect(INITIAL_PROBE_STATE).toEqual({
      status: "unknown",
      consecutiveFailures: 0,
      totalChecks: 0,
      totalFailures: 0,
      lastCheckAtMs: null,
      lastOk: null,
      lastDetail: null,
    });
  });

  it("counts checks and failures and keeps the last result", () => {
    expect(play("+--+--", 3).state).toEqual({
      status: "passing",
      consecutiveFailures: 2,
      totalChecks: 6,
      totalFailures: 4,
      lastCheckAtMs: 6000,
      lastOk: false,
      lastDetail: "HTTP 500",
    });
  });

  it("resets the run of failures on a success", () => {
    expect(play("--+", 3).state.consecutiveFailures).toBe(0);
    expect(play("--+-", 3).state.consecutiveFailures).toBe(1);
  });

  it("does not change the state it was given", () => {
    const before = play("+", 3).state;
    const copy = { ...before };
    trackProbe(before, { ok: false, detail: "timeout after 1s", atMs: 9 }, 1);
    expect(before).toEqual(copy);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses a failures threshold of %s", (failures) => {
    expect(() => trackProbe(INITIAL_PROBE_STATE, { ok: true, detail: "", atMs: 0 }, failures)).toThrow(RangeError);
  });
});
