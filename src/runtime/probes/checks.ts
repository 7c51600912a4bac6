// One probe check (http, tcp or exec) against a deadline. A check never rejects: whatever goes
// wrong becomes { ok: false, detail }, and an exec check leaves no process behind.
import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { formatMs } from "../../core/format.js";
import type { ProbeCheck } from "../../manifest/types.js";
import { signalGroup } from "../kill.js";
import { descendantsIn, groupMembersIn, scanProcesses } from "../proc.js";

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
): Promise<CheckResult> {
  const startedMs = performance.now();
  let outcome: Outcome;
  try {
    if (check.kind === "http") outcome = await httpCheck(check.url, timeoutMs);
    else if (check.kind === "tcp") outcome = await tcpCheck(check.host, check.port, timeoutMs);
    else outcome = await execCheck(check.argv, timeoutMs, cwd, env);
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

/** after a timeout's SIGKILL, how long the check waits for the probe to be reaped */
const REAP_WAIT_MS = 500;

function execCheck(
  argv: readonly string[],
  timeoutMs: number,
  cwd: string,
  env: Readonly<Record<string, string>>,
): Promise<Outcome> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.resolve({ ok: false, detail: "exec probe has an empty command" });
  const output = new BoundedOutput(OUTPUT_LIMIT_BYTES);
  const sub = execa(file, args, {
    cwd,
    env,
    extendEnv: false,
    // its own process group, so that the probe and everything it started can be killed together
    detached: true,
    cleanup: false,
    reject: false,
    buffer: false,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    encoding: "buffer",
    forceKillAfterDelay: false,
  });
  const pid = sub.pid;
  sub.stdout?.on("data", (chunk: Buffer) => output.push(chunk));
  sub.stderr?.on("data", (chunk: Buffer) => output.push(chunk));
  let exit: { code: number | null; signal: string | null } | null = null;
  // whatever the probe left running in its group goes with it, so that its pipes close too
  sub.once("exit", (code, signal) => {
    exit = { code, signal };
    if (pid !== undefined) killGroup(pid);
  });
  const done = sub.then((result): Outcome => {
    if (pid === undefined) return { ok: false, detail: `cannot run ${JSON.stringify(file)}: ${spawnFailure(result)}` };
    return exitOutcome(result.exitCode ?? null, result.signal ?? null, output.text());
  });

  return new Promise<Outcome>((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      // the probe ended in time but something outside its group still holds its pipes
      if (exit !== null) return resolve(exitOutcome(exit.code, exit.signal, output.text()));
      timedOut = true;
      if (pid !== undefined) killJob(pid);
      const outcome = { ok: false, detail: withOutput(timeoutText(timeoutMs), output.text()) };
      const reapWait = new Promise<void>((wait) => setTimeout(wait, REAP_WAIT_MS).unref());
      void Promise.race([done, reapWait]).then(() => resolve(outcome));
    }, timeoutMs);
    void done.then((outcome) => {
      clearTimeout(timer);
      if (!timedOut) resolve(outcome);
    });
  }).finally(() => {
    sub.stdout?.destroy();
    sub.stderr?.destroy();
  });
}

/** "ENOENT" for a missing program; execa's own words for a bad option such as a missing cwd */
function spawnFailure(result: { code?: string | undefined; originalMessage?: string | undefined }): string {
  const message = result.originalMessage?.split("\n")[0] ?? "";
  if (message === "" || message.startsWith("spawn ")) return result.code ?? (message || "spawn failed");
  return message;
}

function exitOutcome(code: number | null, signal: string | null, output: string): Outcome {
  if (signal !== null) return { ok: false, detail: withOutput(`killed by ${signal}`, output) };
  return { ok: code === 0, detail: withOutput(`exit ${code}`, output) };
}

function withOutput(head: string, output: string): string {
  return output === "" ? head : `${head}: ${output}`;
}

function killGroup(pgid: number): void {
  try {
    signalGroup(pgid, "SIGKILL");
  } catch {
    // a pgid vigil must not signal cannot be a detached probe's
  }
}

/** SIGKILL the probe's group and its descendants, found before the kill reparents them. */
function killJob(pid: number): void {
  const stats = scanProcesses();
  const members = new Set([pid, ...groupMembersIn(stats, pid), ...descendantsIn(stats, [pid])]);
  killGroup(pid);
  // descendants that left the group (setsid, setpgid)
  for (const member of members) {
    try {
      process.kill(member, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** The first limitBytes of everything written, read to the end so the probe never blocks on a pipe. */
class BoundedOutput {
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #truncated = false;

  constructor(readonly limitBytes: number) {}

  push(chunk: Buffer): void {
    const room = this.limitBytes - this.#bytes;
    if (room <= 0) {
      this.#truncated ||= chunk.length > 0;
      return;
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.#truncated ||= kept.length < chunk.length;
    this.#chunks.push(Buffer.from(kept));
    this.#bytes += kept.length;
  }

  text(): string {
    const text = Buffer.concat(this.#chunks).toString("utf8").trim();
    return this.#truncated ? `${text}…` : text;
  }
}
