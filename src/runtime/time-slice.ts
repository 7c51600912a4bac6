// Long work (rendering 1,000 services, a /proc sweep) done in slices, so that heartbeat deadlines, exits
// and the control socket never wait behind it for more than one slice.
import { performance } from "node:perf_hooks";
import { setImmediate as nextTurn } from "node:timers/promises";

/** `if (slice.over) await slice.next();` between two pieces of the work */
export class TimeSlice {
  #startMs = performance.now();

  /** longest stretch of work before the event loop gets a turn */
  constructor(readonly ms: number) {}

  get over(): boolean {
    return performance.now() - this.#startMs > this.ms;
  }

  /** gives the event loop a turn, then starts a new slice */
  async next(): Promise<void> {
    await nextTurn();
    this.#startMs = performance.now();
  }
}
