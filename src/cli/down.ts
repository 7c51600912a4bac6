import { setTimeout as sleep } from "node:timers/promises";
import { isAlive } from "../runtime/proc.js";
import { ask } from "./target.js";

/** after every child is gone, how long the supervisor may take to close its files and exit */
const EXIT_WAIT_MS = 30_000;

export async function downCommand(file: string): Promise<void> {
  // stopping may take every service's stop timeout; the supervisor answers when all are gone
  const answer = (await ask(file, { cmd: "down" }, 24 * 3_600_000)) as { pid?: unknown } | undefined;
  const pid = answer?.pid;
  if (typeof pid === "number") await exited(pid);
  process.stdout.write("vigil: stopped\n");
}

/** Waits until the supervisor's process has exited (a zombie counts as exited). */
async function exited(pid: number): Promise<void> {
  const deadline = Date.now() + EXIT_WAIT_MS;
  while (isAlive(pid) && Date.now() < deadline) await sleep(5);
}
