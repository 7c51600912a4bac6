// One probe check (http, tcp or exec) against a deadline. A check never rejects: whatever goes
// wrong becomes { ok: false, detail }, and an exec check leaves no process behind.
import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { formatMs } from "../../core/format.js";
import type { ProbeCheck } from "../../manifest/types.js";
import { runBounded, withOutput } from "../process/run-bounded.js";

export interface CheckResult {
  readonly ok: boolean;
  readonly detail: string;
  readonly durationMs: number;
}

type Outcome = Omit<CheckResult, "durationMs">;

/** how much of an exec probe's output is kept for the detail */
export const OUTPUT_LIMIT_BYTES = 1024;

/**
 * env is the whole environment of an exec probe (nothing of vigil's own is added); cwd is absolute.
 * http: 2xx/3xx within timeoutMs; tcp: connected within timeoutMs; exec: exit 0 within timeoutMs.
 */
export async function runCheck(
  check: ProbeCheck,
  timeoutMs: number,
  cwd: string,
  env: Readonly<Record<string, string>>,
  stop?: AbortSignal,
): Promise<CheckResult> {
  const startedMs = performance.now();
  let outcome: Outcome;
  try {
    if (check.kind === "http") outcome = await httpCheck(check.url, timeoutMs);
    else if (check.kind === "tcp") outcome = await tcpCheck(check.host, check.port, timeoutMs);
    else outcome = await execCheck(check.argv, timeoutMs, cwd, env, stop);
  } catch (err) {
    outcome = { ok: false, detail: `probe error: ${errorText(err)}` };
  }
  return { ...outcome, durationMs: performance.now() - startedMs };
}

function timeoutText(timeoutMs: number): string {
  return `timeout after ${formatMs(timeoutMs)}`;
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return typeof code === "string" ? code : err.message;
  }
  return String(err);
}

async function httpCheck(url: string, timeoutMs: number): Promise<Outcome> {
  let response: Response;
  try {
    response = await fetch(url, {
      // a 3xx is an answer, as for the kubelet; following it could leave the service being probed
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      // a fresh connection per check: a kept-alive socket the service closed would fail spuriously
      headers: { connection: "close", "user-agent": "vigil-probe" },
    });
  } catch (err) {
    if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
      return { ok: false, detail: timeoutText(timeoutMs) };
    }
    // undici reports "fetch failed" and keeps the reason (ECONNREFUSED, …) in cause
    const cause = err instanceof Error ? err.cause : undefined;
    return { ok: false, detail: cause === undefined ? errorText(err) : errorText(cause) };
  }
  // the status is all that counts; the body is never read
  await response.body?.cancel().catch(() => undefined);
  const ok = response.status >= 200 && response.status < 400;
  return { ok, detail: `HTTP ${response.status}` };
}

function tcpCheck(host: string, port: number, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (outcome: Outcome): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, detail: timeoutText(timeoutMs) }), timeoutMs);
    socket.once("connect", () => finish({ ok: true, detail: `connected to ${host}:${port}` }));
    socket.once("error", (err) => finish({ ok: false, detail: errorText(err) }));
  });
}

async function execCheck(
  argv: readonly string[],
  timeoutMs: number,
  cwd: string,
  env: Readonly<Record<string, string>>,
  stop: AbortSignal | undefined,
): Promise<Outcome> {
  const file = argv[0];
  if (file === undefined) return { ok: false, detail: "exec probe has an empty command" };
  const run = await runBounded(argv, { cwd, env, timeoutMs, outputLimitBytes: OUTPUT_LIMIT_BYTES, ...(stop ? { stop } : {}) });
  if (run.error !== undefined) return { ok: false, detail: `cannot run ${JSON.stringify(file)}: ${run.error}` };
  if (run.stopped) return { ok: false, detail: withOutput("stopped: the supervisor is shutting down", run.output) };
  if (run.timedOut) return { ok: false, detail: withOutput(timeoutText(timeoutMs), run.output) };
  if (run.signal !== null) return { ok: false, detail: withOutput(`killed by ${run.signal}`, run.output) };
  return { ok: run.exitCode === 0, detail: withOutput(`exit ${run.exitCode}`, run.output) };
}
