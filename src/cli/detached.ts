// `vigil up -d`: the manifest is checked here, in the foreground, so that its problems are printed with
// their FILE:LINE:COL; then the same CLI is started again as the supervisor, in a session of its own with
// no terminal (`up --detached-child`), which says over an IPC channel whether it opened the stack. Once it
// has, the control socket's `wait-started` returns when every service has started or failed to, and
// the status table is printed.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { StatusDocument } from "../control/status-document.js";
import { wantsColor } from "../runtime/outputs/printer.js";
import { renderTable } from "./status-table.js";
import { startFailures } from "./start-outcome.js";
import { ask } from "./target.js";
import { load, type DetachedMessage } from "./up.js";
import { UserError } from "./user-error.js";

export interface DetachedOptions {
  /** how long to wait for every service to start or fail */
  readonly waitMs: number;
  readonly timestamps: boolean;
  /** start only these services and what they depend on (none: every service) */
  readonly names?: readonly string[];
}

/** the flag that makes `vigil up` the background supervisor of `vigil up -d` */
export const DETACHED_CHILD_FLAG = "--detached-child";

export async function upDetached(file: string, opts: DetachedOptions): Promise<number> {
  const manifest = await load(file);
  const pid = await startSupervisor(resolve(file), opts);
  let timedOut = false;
  try {
    await ask(file, { cmd: "wait-started" }, opts.waitMs);
  } catch (err) {
    if (!(err instanceof UserError && (err.cause as { code?: string } | undefined)?.code === "timeout")) throw err;
    timedOut = true;
  }
  const doc = (await ask(file, { cmd: "status" })) as StatusDocument;
  process.stdout.write(renderTable(doc, Date.now(), { color: wantsColor(process.stdout) }));
  const failures = startFailures(doc.services);
  for (const f of failures) process.stderr.write(`vigil: ${f.name}: ${f.why}\n`);
  const where = `supervisor pid ${pid}; logs in ${manifest.stateDir}; \`vigil down\` stops it`;
  if (timedOut) process.stderr.write(`vigil: not every service had started after ${opts.waitMs / 1000} s; the stack runs on (${where})\n`);
  else process.stderr.write(`vigil: started in the background (${where})\n`);
  return failures.length > 0 ? 1 : 0;
}

/** Starts the background supervisor; resolves with its pid once it holds the stack, or fails as `vigil up` would. */
function startSupervisor(file: string, opts: DetachedOptions): Promise<number> {
  const args = [...process.execArgv, process.argv[1] ?? "", "up", "--file", file, DETACHED_CHILD_FLAG, ...(opts.timestamps ? ["--timestamps"] : []), ...(opts.names ?? [])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", "ignore", "ignore", "ipc"] });
  return new Promise((done, failed) => {
    const settle = (): void => {
      child.off("message", onMessage).off("exit", onExit).off("error", onError);
      if (child.connected) child.disconnect();
      child.unref();
    };
    const onMessage = (message: DetachedMessage): void => {
      settle();
      if (message.type === "opened") done(message.pid);
      else failed(new UserError(message.message, message.exitCode));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      settle();
      failed(new UserError(`vigil: the supervisor ended before it started the stack (${signal ?? `exit status ${code}`})`, 1));
    };
    const onError = (err: Error): void => {
      settle();
      failed(new UserError(`vigil: cannot start the supervisor: ${err.message}`, 1, { cause: err }));
    };
    child.on("message", onMessage).on("exit", onExit).on("error", onError);
  });
}
