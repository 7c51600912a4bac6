// Runs one probe of one service on the injected clock: first check after initialDelayMs, each
// next one intervalMs after the previous one ended, so checks of one run never overlap.
import type { Clock, TimerHandle } from "../../core/clock.js";
import { INITIAL_PROBE_STATE, trackProbe, type ProbeChange, type ProbeState } from "../../core/probe-tracker.js";
import type { ProbeConfig } from "../../manifest/types.js";
import { runCheck, type CheckResult } from "./checks.js";

export type ProbeKind = "liveness" | "readiness";

export interface ProbeRunnerDeps {
  readonly clock: Clock;
  /** absolute; where an exec probe runs */
  readonly cwd: string;
  /** the whole environment of an exec probe */
  readonly env: Readonly<Record<string, string>>;
  /** injectable for unit tests */
  readonly run?: typeof runCheck;
  /** called on each transition to passing or failing, after the next check is scheduled */
  readonly onChange: (change: ProbeChange, state: ProbeState) => void;
}

export class ProbeRunner {
  readonly #run: typeof runCheck;
  #state: ProbeState = INITIAL_PROBE_STATE;
  #timer: TimerHandle | null = null;
  /** bumped by start() and stop(): a check that ends in another generation is ignored */
  #generation = 0;
  #running = false;

  readonly name: string;
  readonly kind: ProbeKind;
  readonly config: ProbeConfig;
  readonly #deps: ProbeRunnerDeps;

  constructor(name: string, kind: ProbeKind, config: ProbeConfig, deps: ProbeRunnerDeps) {
    this.name = name;
    this.kind = kind;
    this.config = config;
    this.#deps = deps;
    this.#run = deps.run ?? runCheck;
  }

  /** Starts a fresh run (status back to unknown); a running probe is restarted. */
  start(): void {
    this.stop();
    this.#running = true;
    this.#state = INITIAL_PROBE_STATE;
    this.#schedule(this.#generation, this.config.initialDelayMs);
  }

  /** Cancels the next check; a check in flight finishes, but its result is dropped. */
  stop(): void {
    this.#generation++;
    this.#running = false;
    if (this.#timer !== null) this.#deps.clock.clearTimer(this.#timer);
    this.#timer = null;
  }

  state(): ProbeState {
    return this.#state;
  }

  isRunning(): boolean {
    return this.#running;
  }

  #schedule(generation: number, delayMs: number): void {
    this.#timer = this.#deps.clock.setTimer(delayMs, () => {
      this.#timer = null;
      void this.#check(generation);
    });
  }

  async #check(generation: number): Promise<void> {
    const { check, timeoutMs, failures, intervalMs } = this.config;
    let result: CheckResult;
    try {
      result = await this.#run(check, timeoutMs, this.#deps.cwd, this.#deps.env);
    } catch (err) {
      // runCheck never rejects; an injected run might
      result = { ok: false, detail: `probe error: ${err instanceof Error ? err.message : String(err)}`, durationMs: 0 };
    }
    if (generation !== this.#generation) return;
    const step = trackProbe(this.#state, { ok: result.ok, detail: result.detail, atMs: this.#deps.clock.now() }, failures);
    this.#state = step.state;
    this.#schedule(generation, intervalMs);
    // last: onChange may stop() this runner, which must cancel the check just scheduled
    if (step.changed !== null) this.#deps.onChange(step.changed, step.state);
  }
}
