// The probe adapter: one check (http, tcp or exec) at the loop's request, its outcome reported back.
// When and how often is the loop's business (core/stack/probes.ts). A check still running at shutdown
// is ended with everything it started, as an action is.
import type { Effect } from "../../core/stack/effects.js";
import type { Input } from "../../core/stack/inputs.js";
import { runCheck } from "./checks.js";

type RunProbe = Extract<Effect, { type: "RunProbe" }>;

/** Runs probes' checks; a shutdown (close) kills the exec checks still running, with all they started. */
export class ProbeRunner {
  readonly #abort = new AbortController();

  constructor(private readonly post: (input: Input) => void) {}

  run(effect: RunProbe, env: Readonly<Record<string, string>>): void {
    const { id, incarnation, probe, config, cwd } = effect;
    void runCheck(config.check, config.timeoutMs, cwd, env, this.#abort.signal).then((result) =>
      this.post({ type: "ProbeFinished", id, incarnation, probe, ok: result.ok, detail: result.detail }),
    );
  }

  close(): void {
    this.#abort.abort();
  }
}
