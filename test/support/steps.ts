// step() driven by hand: inputs in, the effects of the last one out, at the time the test says.
import type { Effect } from "../../src/core/stack/effects.js";
import type { Input } from "../../src/core/stack/inputs.js";
import type { StackState } from "../../src/core/stack/state.js";
import { step } from "../../src/core/stack/step.js";

/** Feeds inputs to step() one by one at now() and wall(now()); returns the effects of the last. */
export function stepper(now: () => number, wall: (nowMs: number) => number = (nowMs) => 1_700_000_000_000 + nowMs) {
  return (state: StackState, ...inputs: Input[]): Effect[] => {
    let effects: readonly Effect[] = [];
    for (const input of inputs) effects = step(state, input, { nowMs: now(), wallMs: wall(now()), random: () => 0.5 }).effects;
    return [...effects];
  };
}
