// How hard the property-based fuzz suites push. `npm test` runs each property a fraction of its full
// count with a fixed seed (the same cases every run); `npm run fuzz` runs the full count with a new seed,
// which fast-check prints with any counterexample so that it can be replayed with VIGIL_FUZZ_SEED.
import type { Parameters } from "fast-check";

const FULL = process.env["VIGIL_FUZZ"] === "full";
const SEED = process.env["VIGIL_FUZZ_SEED"];

/** fast-check parameters for a property whose full run is `fullRuns` cases */
export function fuzzParams<T>(fullRuns: number): Parameters<T> {
  const numRuns = FULL ? fullRuns : Math.max(20, Math.round(fullRuns / 100));
  if (SEED !== undefined) return { numRuns, seed: Number(SEED) };
  return FULL ? { numRuns } : { numRuns, seed: 20261206 };
}

/** true under `npm run fuzz`: tests may then take longer than the suite's usual timeout */
export const fuzzIsFull = FULL;
