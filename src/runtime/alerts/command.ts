// Alerts through a command: the alert in VIGIL_EVENT_* variables and as one JSON line on stdin. The
// command runs in its own process group; at its timeout (or shutdown) the group and every descendant
// is killed, and whatever it left in its group when it exited goes too.
import { execa } from "execa";
import type { AlertPayload } from "../../core/alert-policy.js";
import type { AlertTarget } from "../../manifest/types.js";
import { signalGroup } from "../kill.js";
import { descendantsIn, groupMembersIn, scanProcesses } from "../proc.js";
import { withRetries, type Attempt, type Delivery, type Env, type RetryOptions } from "./webhook.js";

export type CommandTarget = Extract<AlertTarget, { kind: "command" }>;

export interface CommandOptions extends RetryOptions {
  readonly timeoutMs: number;
  /** the command's environment before the VIGIL_EVENT_* variables are added */
  readonly env: Env;
}

/** how much of the command's output is kept for a failure's detail */
export const OUTPUT_LIMIT_BYTES = 1024;
/** after a kill, how long to wait for the command to be reaped */
const REAP_WAIT_MS = 500;

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

function runOnce(target: CommandTarget, payload: AlertPayload, timeoutMs: number, env: Env, stop: AbortSignal | undefined): Promise<Attempt> {
  const [file, ...args] = target.argv;
  if (file === undefined) return Promise.resolve({ ok: false, retryable: false, detail: "the alert command is empty" });
  const output = new BoundedOutput(OUTPUT_LIMIT_BYTES);
  const sub = execa(file, args, {
    cwd: target.cwd,
    env: { ...env, ...alertEnv(payload) },
    extendEnv: false,
    // its own process group, so that it and everything it starts can be killed together
    detached: true,
    cleanup: false,
    reject: false,
    buffer: false,
    input: `${JSON.stringify(payload)}\n`,
    stdout: "pipe",
    stderr: "pipe",
    encoding: "buffer",
    forceKillAfterDelay: false,
  });
  const pid = sub.pid;
  sub.stdout?.on("data", (chunk: Buffer) => output.push(chunk));
  sub.stderr?.on("data", (chunk: Buffer) => output.push(chunk));
  const reaped = (): Promise<unknown> => Promise.race([sub, new Promise((wait) => setTimeout(wait, REAP_WAIT_MS).unref())]);

  return new Promise<Attempt>((resolve) => {
    let settled = false;
    const finish = (attempt: Attempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop?.removeEventListener("abort", onAbort);
      sub.stdout?.destroy();
      sub.stderr?.destroy();
      resolve(attempt);
    };
    const killed = (detail: string, retryable: boolean): void => {
      if (settled) return;
      if (pid !== undefined) killJob(pid);
      void reaped().then(() => finish({ ok: false, retryable, detail: withOutput(detail, output.text()) }));
    };
    const timer = setTimeout(() => killed(`killed after its timeout of ${timeoutMs} ms`, true), timeoutMs);
    const onAbort = (): void => killed("killed at shutdown", false);
    stop?.addEventListener("abort", onAbort, { once: true });
    if (stop?.aborted) onAbort();
    sub.once("exit", (code, signal) => {
      // what it left running in its group goes with it, so that its pipes close too
      if (pid !== undefined) killGroup(pid);
      void reaped().then(() => {
        const ok = code === 0;
        const how = signal !== null ? `killed by ${signal}` : `exit ${code}`;
        finish({ ok, retryable: !ok, detail: ok ? how : withOutput(how, output.text()) });
      });
    });
    void sub.then((result) => {
      if (pid === undefined) finish({ ok: false, retryable: false, detail: `cannot run ${JSON.stringify(file)}: ${result.code ?? result.shortMessage}` });
    });
  });
}

function withOutput(head: string, output: string): string {
  return output === "" ? head : `${head}: ${output}`;
}

function killGroup(pgid: number): void {
  try {
    signalGroup(pgid, "SIGKILL");
  } catch {
    // a pgid vigil must not signal cannot be a detached command's
  }
}

/** SIGKILL the command's group and its descendants, found before the kill reparents them. */
function killJob(pid: number): void {
  const stats = scanProcesses();
  const members = new Set([pid, ...groupMembersIn(stats, pid), ...descendantsIn(stats, [pid])]);
  killGroup(pid);
  for (const member of members) {
    try {
      process.kill(member, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** The first limitBytes of the output, read to the end so the command never blocks on a full pipe. */
class BoundedOutput {
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #truncated = false;

  constructor(readonly limitBytes: number) {}

  push(chunk: Buffer): void {
    const room = this.limitBytes - this.#bytes;
    const kept = chunk.subarray(0, Math.max(0, room));
    this.#truncated ||= kept.length < chunk.length;
    if (kept.length === 0) return;
    this.#chunks.push(Buffer.from(kept));
    this.#bytes += kept.length;
  }

  text(): string {
    const text = Buffer.concat(this.#chunks).toString("utf8").trim();
    return this.#truncated ? `${text}…` : text;
  }
}
