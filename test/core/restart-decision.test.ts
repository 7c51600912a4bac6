import { describe, expect, it } from "vitest";
import type { RestartPolicy } from "../../src/manifest/types.js";
import { decideRestart, shouldRestart } from "../../src/core/restart-decision.js";
import type { ExitInfo } from "../../src/core/types.js";
import { restartConfig } from "./fake-config.js";

const exits = {
  "exit code 0": { code: 0, signal: null, reason: "exit", atMs: 0 },
  "exit code 1": { code: 1, signal: null, reason: "exit", atMs: 0 },
  "killed by SIGKILL": { code: null, signal: "SIGKILL", reason: "exit", atMs: 0 },
  "could not be spawned": { code: null, signal: null, reason: "exit", atMs: 0, error: "ENOENT" },
  "ended for heartbeat, exit code 0": { code: 0, signal: null, reason: "heartbeat", atMs: 0 },
  "ended for heartbeat by SIGTERM": { code: null, signal: "SIGTERM", reason: "heartbeat", atMs: 0 },
  "ended for memory by SIGTERM": { code: null, signal: "SIGTERM", reason: "memory", atMs: 0 },
} satisfies Record<string, ExitInfo>;
type ExitName = keyof typeof exits;

const table: ReadonlyArray<readonly [RestartPolicy, ExitName, "restart" | "done"]> = [
  ["always", "exit code 0", "restart"],
  ["always", "exit code 1", "restart"],
  ["always", "killed by SIGKILL", "restart"],
  ["always", "could not be spawned", "restart"],
  ["always", "ended for heartbeat, exit code 0", "restart"],
  ["always", "ended for heartbeat by SIGTERM", "restart"],
  ["always", "ended for memory by SIGTERM", "restart"],
  ["on-failure", "exit code 0", "done"],
  ["on-failure", "exit code 1", "restart"],
  ["on-failure", "killed by SIGKILL", "restart"],
  ["on-failure", "could not be spawned", "restart"],
  ["on-failure", "ended for heartbeat, exit code 0", "restart"],
  ["on-failure", "ended for heartbeat by SIGTERM", "restart"],
  ["on-failure", "ended for memory by SIGTERM", "restart"],
  ["never", "exit code 0", "done"],
  ["never", "exit code 1", "done"],
  ["never", "killed by SIGKILL", "done"],
  ["never", "could not be spawned", "done"],
  ["never", "ended for heartbeat, exit code 0", "done"],
  ["never", "ended for heartbeat by SIGTERM", "done"],
  ["never", "ended for memory by SIGTERM", "done"],
];

describe("the restart truth table", () => {
  it("has a row for every policy and every kind of exit", () => {
    for (const policy of ["always", "on-failure", "never"] as const) {
      for (const exit of Object.keys(exits)) {
        expect(table.filter(([p, x]) => p === policy && x === exit), `${policy} × ${exit}`).toHaveLength(1);
      }
    }
  });

  it.each(table)("policy %s, child %s → %s", (policy, exitName, expected) => {
    const exit = exits[exitName];
    expect(shouldRestart(policy, exit)).toBe(expected === "restart");
    const decision = decideRestart(restartConfig({ policy }), exit, { attempt: 0, restartTimes: [], ranMs: 1000 }, 5000, 0.5);
    expect(decision.kind).toBe(expected);
  });
});

describe("decideRestart", () => {
  const crash = exits["exit code 1"];

  it("schedules the backoff delay of the current attempt and moves to the next step", () => {
    const decision = decideRestart(restartConfig(), crash, { attempt: 2, restartTimes: [], ranMs: 1000 }, 5000, 0.5);
    expect(decision).toEqual({ kind: "restart", delayMs: 800, attempt: 3, restartTimes: [5000] });
  });

  it("starts the backoff over after a run longer than reset_after", () => {
    const decision = decideRestart(restartConfig(), crash, { attempt: 5, restartTimes: [], ranMs: 60_000 }, 100_000, 0.5);
    expect(decision).toMatchObject({ kind: "restart", delayMs: 200, attempt: 1 });
  });

  it("keeps the backoff step when the child never started", () => {
    const decision = decideRestart(restartConfig(), crash, { attempt: 3, restartTimes: [], ranMs: null }, 100_000, 0.5);
    expect(decision).toMatchObject({ kind: "restart", delayMs: 1600, attempt: 4 });
  });

  it("declares fatal when one restart too many falls inside the window", () => {
    const config = restartConfig({ maxRestarts: 3, windowMs: 60_000 });
    const decision = decideRestart(config, crash, { attempt: 3, restartTimes: [1000, 2000, 3000], ranMs: 100 }, 4000, 0.5);
    expect(decision).toEqual({ kind: "fatal", restartsInWindow: 4 });
  });

  it("does not count restarts that slid out of the window", () => {
    const config = restartConfig({ maxRestarts: 3, windowMs: 60_000 });
    const decision = decideRestart(config, crash, { attempt: 3, restartTimes: [1000, 2000, 3000], ranMs: 100 }, 62_000, 0.5);
    expect(decision).toMatchObject({ kind: "restart", restartTimes: [3000, 62_000] });
  });

  it("says done without looking at the window when the policy does not restart", () => {
    const config = restartConfig({ policy: "never", maxRestarts: 0 });
    expect(decideRestart(config, crash, { attempt: 9, restartTimes: [1, 2, 3], ranMs: 1 }, 4, 0.5)).toEqual({ kind: "done" });
  });
});
