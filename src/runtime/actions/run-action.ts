// The adapter of `actions:` commands: each runs bounded (its timeout, then killed with everything it
// started; run-bounded.ts) with the supervisor's environment, the service's and VIGIL_EVENT_*; how it
// ended goes back to the loop as ActionFinished. A shutdown aborts those still running.
import type { Effect } from "../../core/stack/effects.js";
import type { Input } from "../../core/stack/inputs.js";
import { runBounded } from "../process/run-bounded.js";

/** what of an action's output is kept for the journal */
const OUTPUT_LIMIT_BYTES = 2_048;

export class ActionRunner {
  readonly #abort = new AbortController();
  #running = 0;

  constructor(
    private readonly post: (input: Input) => void,
    private readonly childEnv: Readonly<Record<string, string>>,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get running(): number {
    return this.#running;
  }

  run(effect: Extract<Effect, { type: "RunAction" }>): void {
    this.#running++;
    void runBounded(effect.argv, {
      cwd: effect.cwd,
      env: { ...this.env, ...this.childEnv, ...effect.env },
      timeoutMs: effect.timeoutMs,
      outputLimitBytes: OUTPUT_LIMIT_BYTES,
      stop: this.#abort.signal,
    }).then((run) => {
      this.#running--;
      this.post({
        type: "ActionFinished",
        seq: effect.seq,
        result: { exitCode: run.exitCode, timedOut: run.timedOut, error: run.error ?? (run.stopped ? "stopped: the supervisor is shutting down" : null), output: run.output },
      });
    });
  }

  close(): void {
    this.#abort.abort();
  }
}
