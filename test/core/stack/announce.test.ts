// `vigil up -d` asks the supervisor to answer once the start is over: every instance started, or failed to.
import { describe, expect, it } from "vitest";
import type { Effect } from "../../../src/core/stack/effects.js";
import type { Input } from "../../../src/core/stack/inputs.js";
import { initialState } from "../../../src/core/stack/state.js";
import { manifestOf } from "../../support/fake-world.js";
import { stepper } from "../../support/steps.js";

const ctx = { nowMs: 10_000, wallMs: 1_700_000_000_000, random: () => 0.5 };

const run = stepper(() => ctx.nowMs, () => ctx.wallMs);

const replies = (effects: readonly Effect[]): unknown[] => effects.filter((e) => e.type === "Reply");
const waitStarted = (replyTo: number): Input => ({ type: "ControlRequested", replyTo, command: { cmd: "wait-started" } });

const STACK = `
version: 1
services:
  db:
    command: db
  api:
    command: api
    depends_on: [db]
`;

describe("waiting for the start", () => {
  it("answers once the last instance has started, not before", () => {
    const state = initialState(manifestOf(STACK), ctx.wallMs);
    expect(replies(run(state, waitStarted(5)))).toEqual([]);
    expect(replies(run(state, { type: "Started", pid: 1 }))).toEqual([]);
    expect(replies(run(state, { type: "ChildSpawned", id: "db#0", incarnation: 1, pid: 100, token: "t-db" }))).toEqual([]);
    const last = run(state, { type: "ChildSpawned", id: "api#0", incarnation: 1, pid: 101, token: "t-api" });
    expect(replies(last)).toEqual([{ type: "Reply", to: 5, answer: { ok: true } }]);
  });

  it("answers at once when the stack has started already", () => {
    const state = initialState(manifestOf("version: 1\nservices:\n  web:\n    command: web\n"), ctx.wallMs);
    run(state, { type: "Started", pid: 1 }, { type: "ChildSpawned", id: "web#0", incarnation: 1, pid: 100, token: "t" });
    expect(replies(run(state, waitStarted(9)))).toEqual([{ type: "Reply", to: 9, answer: { ok: true } }]);
  });

  it("counts a service that could not be spawned as started (it failed), so the wait ends", () => {
    const state = initialState(manifestOf("version: 1\nservices:\n  ghost:\n    command: ghost\n"), ctx.wallMs);
    run(state, waitStarted(3), { type: "Started", pid: 1 });
    const failed = run(state, { type: "SpawnFailed", id: "ghost#0", incarnation: 1, error: "ENOENT" });
    expect(replies(failed)).toEqual([{ type: "Reply", to: 3, answer: { ok: true } }]);
    expect(state.instances.get("ghost#0")?.status.state).not.toBe("starting");
  });

  it("tells the waiting that the supervisor is shutting down when a shutdown cuts the start short", () => {
    const state = initialState(manifestOf(STACK), ctx.wallMs);
    run(state, { type: "Started", pid: 1 }, waitStarted(4));
    const down = run(state, { type: "ShutdownRequested", kill: false });
    expect(replies(down)).toMatchObject([{ to: 4, answer: { ok: false, code: "shutting-down" } }]);
  });
});
