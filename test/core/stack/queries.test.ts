// The beat history answered by the decision function: a window, across children, with its figures.
import { describe, expect, it } from "vitest";
import { parseChildMessage } from "../../../src/core/heartbeat-message.js";
import type { Effect } from "../../../src/core/stack/effects.js";
import type { Input } from "../../../src/core/stack/inputs.js";
import type { BeatsDoc } from "../../../src/core/stack/queries.js";
import { initialState, type StackState } from "../../../src/core/stack/state.js";
import { manifestOf } from "../../support/fake-world.js";
import { stepper } from "../../support/steps.js";

const WALL = 1_700_000_000_000;
let nowMs = 0;
const run = stepper(() => nowMs, (ms) => WALL + ms);

function beats(state: StackState, since: number | null, until: number | null): BeatsDoc {
  const effects: Effect[] = run(state, { type: "ControlRequested", replyTo: 7, command: { cmd: "beats", names: ["api"], sinceWallMs: since, untilWallMs: until } });
  const reply = effects.find((e) => e.type === "Reply");
  if (reply?.type !== "Reply" || !reply.answer.ok || !("data" in reply.answer)) throw new Error(`no answer: ${JSON.stringify(effects)}`);
  return (reply.answer.data as { services: BeatsDoc[] }).services[0]!;
}

describe("the beat history", () => {
  it("keeps the beats of the children before, answers a window, and leaves the restart's gap out of the figures", () => {
    nowMs = 0;
    const state = initialState(manifestOf(`
version: 1
services:
  api:
    command: api
    heartbeat: { via: socket, interval: 1s, history: 5 }
    restart: { backoff: { initial: 0, jitter: 0 } }
`), WALL);
    run(state, { type: "Started", pid: 1 });
    run(state, { type: "ChildSpawned", id: "api#0", incarnation: 1, pid: 100, token: "t1" });
    const beat = (token: string, n: number): Input => ({ type: "MessageReceived", message: parseChildMessage({ service: "api", token, type: "beat", data: { n } }) });
    for (const n of [1, 2, 3]) {
      nowMs = n * 1000;
      run(state, beat("t1", n));
    }
    nowMs = 3500;
    run(state, { type: "ChildExited", id: "api#0", incarnation: 1, code: 1, signal: null });
    nowMs = 30_000;
    run(state, { type: "ChildSpawned", id: "api#0", incarnation: 2, pid: 101, token: "t2" });
    for (const n of [4, 5, 6]) {
      nowMs = 30_000 + (n - 3) * 500;
      run(state, beat("t2", n));
    }
    const all = beats(state, null, null);
    // history 5: the oldest beat has made room
    expect(all.beats.map((b) => b.data)).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }, { n: 6 }]);
    expect(all.beats[0]!.at).toBe(new Date(WALL + 2000).toISOString());
    expect(all.stats).toEqual({ beats: 5, mean_interval_ms: 667, p95_interval_ms: 1000, max_interval_ms: 1000, late: 0 });
    const window = beats(state, WALL + 3000, WALL + 31_000);
    expect(window.beats.map((b) => b.data)).toEqual([{ n: 3 }, { n: 4 }, { n: 5 }]);
    expect(window).toMatchObject({ since: new Date(WALL + 3000).toISOString(), until: new Date(WALL + 31_000).toISOString(), interval_ms: 1000, history: 5 });
    expect(window.stats).toMatchObject({ beats: 3, mean_interval_ms: 500 });
  });
});
