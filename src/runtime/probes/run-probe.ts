// The probe adapter: one check (http, tcp or exec) at the loop's request, its outcome reported back.
// When and how often is the loop's business (core/stack/probes.ts).
import type { Effect } from "../../core/stack/effects.js";
import type { Input } from "../../core/stack/inputs.js";
import { runCheck } from "./checks.js";

type RunProbe = Extract<Effect, { type: "RunProbe" }>;

export function runProbe(effect: RunProbe, env: Readonly<Record<string, string>>, post: (input: Input) => void): void {
  const { id, incarnation, probe, config, cwd } = effect;
  void runCheck(config.check, config.timeoutMs, cwd, env).then((result) =>
    post({ type: "ProbeFinished", id, incarnation, probe, ok: result.ok, detail: result.detail }),
  );
}
