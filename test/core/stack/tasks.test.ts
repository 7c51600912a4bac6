// In-flight tasks decided by step() alone with time passed in: one stale warning per task, a timeout that
// restarts, one timer for all of them, a bound on how many are open, and heartbeats only while busy.
import { describe, expect, it } from "vitest";
import { parseChildMessage } from "../../../src/core/heartbeat-message.js";
import type { Effect } from "../../../src/core/stack/effects.js";
import type { Input } from "../../../src/core/stack/inputs.js";
import { healthOf } from "../../../src/core/stack/health.js";
import { initialState, type StackState } from "../../../src/core/stack/state.js";
import { MAX_OPEN_TASKS } from "../../../src/core/task-book.js";
import { manifestOf } from "../../support/fake-world.js";
import { stepper } from "../../support/steps.js";

let nowMs = 0;
const run = stepper(() => nowMs);
const published = (effects: readonly Effect[]) => effects.flatMap((e) => (e.type === "Publish" ? [e.event] : []));
const kinds = (effects: readonly Effect[]): string[] => published(effects).map((e) => e.kind);
const taskTimers = (effects: readonly Effect[]) => effects.flatMap((e) => (e.type === "SetTimer" && e.key.kind === "task" ? [e.delayMs] : []));

function stack(extra: string): StackState {
  nowMs = 0;
  const state = initialState(manifestOf(`
version: 1
services:
  agent:
    command: agent
${extra}
`), 0);
  run(state, { type: "Started", pid: 1 });
  run(state, { type: "ChildSpawned", id: "agent#0", incarnation: 1, pid: 100, token: "tok" });
  return state;
}

const task = (id: string, event: "start" | "progress" | "end", name?: string): Input => ({
  type: "MessageReceived",
  message: parseChildMessage({ service: "agent", token: "tok", type: "task", id, event, ...(name === undefined ? {} : { name }) }),
});
const beat: Input = { type: "MessageReceived", message: parseChildMessage({ service: "agent", token: "tok", type: "beat" }) };
const taskDue = (incarnation = 1): Input => ({ type: "TimerFired", key: { id: "agent#0", incarnation, kind: "task" } });
const agent = (state: StackState) => state.instances.get("agent#0")!;

describe("in-flight tasks", () => {
  it("a task that stalls gives exactly one stale warning, and past its timeout a restart with reason task-timeout", () => {
    const state = stack("    tasks: { stale_after: 5m, timeout: 30m, on_timeout: restart }");
    expect(taskTimers(run(state, task("req-42", "start", "summarise")))).toEqual([300_000]);
    nowMs = 60_000;
    run(state, task("req-42", "progress"));
    // the timer armed for the first stale deadline fires early, looks, and re-arms for the real one
    nowMs = 300_000;
    const early = run(state, taskDue());
    expect(kinds(early)).toEqual([]);
    expect(taskTimers(early)).toEqual([60_000]);
    nowMs = 360_000;
    const stale = run(state, taskDue());
    expect(published(stale).map((e) => [e.kind, e.level, e.fields])).toEqual([
      ["task-stale", "warn", { task: "req-42", name: "summarise", idleForMs: 300_000, runningForMs: 360_000, staleAfterMs: 300_000 }],
    ]);
    // the next deadline is the timeout: no second warning for the same task, however long it stays silent
    expect(taskTimers(stale)).toEqual([1_800_000 - 360_000]);
    nowMs = 1_800_000;
    const timedOut = run(state, taskDue());
    expect(kinds(timedOut)).toEqual(["task-timeout", "failure", "state"]);
    expect(timedOut).toContainEqual({ type: "Signal", id: "agent#0", incarnation: 1, signal: "SIGTERM" });
    expect(taskTimers(timedOut)).toEqual([]);
    // the exit ends the child's tasks: the next child starts with none, and the restart says why
    run(state, { type: "ChildExited", id: "agent#0", incarnation: 1, code: null, signal: "SIGTERM" });
    expect(agent(state).status.lastExit?.reason).toBe("task-timeout");
    expect(agent(state).tasks.open.size).toBe(0);
    expect(agent(state).status.state).toBe("backoff");
  });

  it("actions: task-timeout with then: none runs its command once and keeps the child, even with on_timeout: restart", () => {
    const state = stack("    tasks: { timeout: 10s, on_timeout: restart }\n    actions:\n      task-timeout: { run: dump-tasks, then: none }");
    run(state, task("a", "start"));
    nowMs = 10_000;
    const effects = run(state, taskDue());
    expect(effects.flatMap((e) => (e.type === "RunAction" ? [e.env["VIGIL_EVENT_KIND"]] : []))).toEqual(["task-timeout"]);
    expect(effects.filter((e) => e.type === "Signal")).toEqual([]);
    expect(agent(state).status).toMatchObject({ state: "running", pid: 100 });
  });

  it("actions: task-timeout with then: restart runs its command first and restarts once it is done", () => {
    const state = stack("    tasks: { timeout: 10s, on_timeout: restart }\n    actions:\n      task-timeout: { run: dump-tasks, then: restart }");
    run(state, task("a", "start"));
    nowMs = 10_000;
    const effects = run(state, taskDue());
    expect(effects.flatMap((e) => (e.type === "RunAction" ? [e.env["VIGIL_EVENT_KIND"]] : []))).toEqual(["task-timeout"]);
    expect(effects.filter((e) => e.type === "Signal")).toEqual([]);
    nowMs = 10_500;
    const done = run(state, { type: "ActionFinished", seq: 1, result: { exitCode: 0, timedOut: false, error: null, output: "" } });
    expect(done).toContainEqual({ type: "Signal", id: "agent#0", incarnation: 1, signal: "SIGTERM" });
  });

  it("on_timeout alert reports the timeout once and keeps the child and the task", () => {
    const state = stack("    tasks: { timeout: 10s }");
    run(state, task("a", "start"));
    nowMs = 10_000;
    const effects = run(state, taskDue());
    expect(published(effects).map((e) => [e.kind, e.level])).toEqual([["task-timeout", "error"]]);
    expect(effects.some((e) => e.type === "Signal")).toBe(false);
    expect(taskTimers(effects)).toEqual([]);
    expect(agent(state).tasks.open.get("a")?.timedOut).toBe(true);
    run(state, task("a", "end"));
    expect(agent(state).tasks.open.size).toBe(0);
  });

  it("keeps one timer for many tasks: a start re-arms it only when its deadline is the earliest", () => {
    const state = stack("    tasks: { stale_after: 10s }");
    expect(taskTimers(run(state, task("a", "start")))).toEqual([10_000]);
    nowMs = 1_000;
    expect(taskTimers(run(state, task("b", "start")))).toEqual([]);
    nowMs = 5_000;
    expect(taskTimers(run(state, task("a", "progress")))).toEqual([]);
    nowMs = 10_000;
    const fired = run(state, taskDue());
    expect(kinds(fired)).toEqual([]);
    expect(taskTimers(fired)).toEqual([1_000]);
    nowMs = 11_000;
    expect(published(run(state, taskDue())).map((e) => e.fields)).toEqual([
      { task: "b", name: null, idleForMs: 10_000, runningForMs: 10_000, staleAfterMs: 10_000 },
    ]);
  });

  it("refuses and counts starts beyond 1,000 open tasks; progress and end of unknown tasks are counted", () => {
    const state = stack("");
    for (let i = 0; i <= MAX_OPEN_TASKS; i++) run(state, task(`t${i}`, "start"));
    const book = agent(state).tasks;
    expect([book.open.size, book.rejected, book.started]).toEqual([MAX_OPEN_TASKS, 1, MAX_OPEN_TASKS]);
    run(state, task("t0", "end"), task("t0", "end"), task("nope", "progress"));
    expect([book.open.size, book.ended, book.unmatched]).toEqual([MAX_OPEN_TASKS - 1, 1, 2]);
    // without tasks: no deadlines, so no timer at all
    expect(taskTimers(run(state, task("t0", "start")))).toEqual([]);
  });

  it("a reload with new deadlines looks at the open tasks at once", () => {
    const state = stack("    tasks: { stale_after: 10m }");
    run(state, task("a", "start"));
    nowMs = 60_000;
    const next = manifestOf(`
version: 1
services:
  agent:
    command: agent
    tasks: { stale_after: 30s, timeout: 1h }
`);
    const applied = run(state, { type: "ManifestLoaded", manifest: next, replyTo: null });
    expect(taskTimers(applied)).toEqual([0]);
    expect(published(run(state, taskDue())).map((e) => [e.kind, (e.fields as { task?: string }).task])).toEqual([["task-stale", "a"]]);
  });

  it("a malformed task message is refused as not of the protocol", () => {
    const bad = [
      { type: "task", id: "", event: "start" },
      { type: "task", id: "x", event: "begin" },
      { type: "task", id: 42, event: "start" },
      { type: "task", id: "x".repeat(257), event: "start" },
      { type: "task", id: "x", event: "start", name: 7 },
    ];
    for (const value of bad) expect(parseChildMessage({ service: "agent", token: "tok", ...value })).toEqual({ ok: false, fault: "bad-message" });
  });

  describe("heartbeat.when: busy", () => {
    const HB = "    heartbeat: { via: socket, interval: 1s, misses: 3, startup_grace: 2s, when: busy }";

    it("an idle child may be silent: no deadline until a task opens", () => {
      const state = stack(HB);
      expect(agent(state).heartbeat).toBeNull();
      nowMs = 60_000;
      expect(healthOf(state, agent(state), nowMs)).toBe("unknown");
      run(state, beat);
      expect(healthOf(state, agent(state), nowMs)).toBe("healthy");
    });

    it("while a task is open silence fails the child; once the last task ends it is idle and well again", () => {
      const state = stack(HB);
      const opened = run(state, task("a", "start"));
      expect(opened).toContainEqual({ type: "SetTimer", key: { id: "agent#0", incarnation: 1, kind: "heartbeat" }, delayMs: 1_000 });
      expect(healthOf(state, agent(state), nowMs)).toBe("healthy");
      nowMs = 500;
      run(state, beat);
      nowMs = 700;
      const closed = run(state, task("a", "end"));
      expect(closed).toContainEqual({ type: "CancelTimer", key: { id: "agent#0", incarnation: 1, kind: "heartbeat" } });
      nowMs = 100_000;
      expect(healthOf(state, agent(state), nowMs)).toBe("healthy");
      // busy again, and silent: failed after misses × interval, restarted with reason heartbeat
      run(state, task("b", "start"));
      const hbDue: Input = { type: "TimerFired", key: { id: "agent#0", incarnation: 1, kind: "heartbeat" } };
      for (const at of [101_000, 102_000]) {
        nowMs = at;
        run(state, hbDue);
      }
      nowMs = 103_000;
      const failed = run(state, hbDue);
      expect(published(failed).find((e) => e.kind === "failure")?.fields).toMatchObject({ reason: "heartbeat" });
    });
  });
});
