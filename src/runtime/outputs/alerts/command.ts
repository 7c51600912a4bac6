// Alerts through a command: the alert in VIGIL_EVENT_* variables and as one JSON line on stdin. The
// command runs in its own process group; at its timeout (or shutdown) the group and every descendant
// is killed, and whatever it left in its group when it exited goes too.
import type { AlertPayload } from "../../../core/alert-policy.js";
import type { AlertTarget } from "../../../manifest/types.js";
import { runBounded, withOutput } from "../../process/run-bounded.js";
import { withRetries, type Attempt, type Delivery, type Env, type RetryOptions } from "./webhook.js";

export type CommandTarget = Extract<AlertTarget, { kind: "command" }>;

export interface CommandOptions extends RetryOptions {
  readonly timeoutMs: number;
  /** the command's environment before the VIGIL_EVENT_* variables are added */
  readonly env: Env;
}

/** how much of the command's output is kept for a failure's detail */
export const OUTPUT_LIMIT_BYTES = 1024;

export function runAlertCommand(target: CommandTarget, payload: AlertPayload, opts: CommandOptions): Promise<Delivery> {
  return withRetries((signal) => runOnce(target, payload, opts.timeoutMs, opts.env, signal), opts);
}

export function alertEnv(payload: AlertPayload): Record<string, string> {
  return {
    VIGIL_EVENT_KIND: payload.event,
    VIGIL_EVENT_SERVICE: payload.service ?? "",
    VIGIL_EVENT_REASON: payload.reason ?? "",
    VIGIL_EVENT_MESSAGE: payload.message,
    VIGIL_EVENT_TEXT: payload.text,
    VIGIL_EVENT_HOST: payload.host,
    VIGIL_EVENT_TIME: payload.time,
    VIGIL_EVENT_FOLDED: String(payload.folded),
    VIGIL_EVENT_SOURCE: payload.source,
    VIGIL_EVENT_FIGURES: JSON.stringify(payload.figures),
  };
}

async function runOnce(target: CommandTarget, payload: AlertPayload, timeoutMs: number, env: Env, stop: AbortSignal | undefined): Promise<Attempt> {
  const file = target.argv[0];
  if (file === undefined) return { ok: false, retryable: false, detail: "the alert command is empty" };
  const run = await runBounded(target.argv, {
    cwd: target.cwd,
    env: { ...env, ...alertEnv(payload) },
    timeoutMs,
    input: `${JSON.stringify(payload)}\n`,
    outputLimitBytes: OUTPUT_LIMIT_BYTES,
    stop,
  });
  if (run.error !== undefined) return { ok: false, retryable: false, detail: `cannot run ${JSON.stringify(file)}: ${run.error}` };
  if (run.timedOut) return { ok: false, retryable: true, detail: withOutput(`killed after its timeout of ${timeoutMs} ms`, run.output) };
  if (run.stopped) return { ok: false, retryable: false, detail: withOutput("killed at shutdown", run.output) };
  const ok = run.exitCode === 0;
  const how = run.signal !== null ? `killed by ${run.signal}` : `exit ${run.exitCode}`;
  return { ok, retryable: !ok, detail: ok ? how : withOutput(how, run.output) };
}
