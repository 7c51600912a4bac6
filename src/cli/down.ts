import { setTimeout as sleep } from "node:timers/promises";
import { isAlive, processes } from "../runtime/process/table.js";
import { ask } from "./target.js";
import { UserError } from "./user-error.js";

/** after every child is gone, how long the supervisor may take to close its files and exit */
const EXIT_WAIT_MS = 30_000;

export async function downCommand(file: string): Promise<void> {
  // stopping may take every service's stop timeout; the supervisor answers when all are gone
  const answer = (await ask(file, { cmd: "down" }, 24 * 3_600_000)) as { pid?: unknown } | undefined;
  const pid = answer?.pid;
  if (typeof pid === "number" && !(await exited(pid))) {
    throw new UserError(`vigil: every service stopped, but the supervisor (pid ${pid}) has not exited within ${EXIT_WAIT_MS / 1000} s`, 1);
  }
  process.stdout.write("vigil: stopped\n");
}

/** Waits until the supervisor's process has exited (a zombie counts as exited); false when it has not in time. */
async function exited(pid: number): Promise<boolean> {
  const deadline = Date.now() + EXIT_WAIT_MS;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    // a look costs a ps run on the portable process backend: not 200 a second
    await sleep(processes().backend === "portable" ? 50 : 5);
  }
  return true;
}
