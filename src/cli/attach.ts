// vigil attach: the running stack's output as `vigil up` prints it in the foreground, read from the
// per-service logs (across rotation, as `vigil logs -f`). Ctrl-C detaches; nothing is stopped. It ends by
// itself, with status 0, once the supervisor has gone.
import type { StatusDocument } from "../control/status-document.js";
import { isSameProcess, processes } from "../runtime/process/table.js";
import { logsCommand } from "./logs.js";
import { ask } from "./target.js";

export interface AttachOptions {
  /** lines of the past to print first (0: only what comes from now on) */
  readonly lines: number;
  readonly timestamps: boolean;
}

export async function attachCommand(names: readonly string[], file: string, opts: AttachOptions): Promise<void> {
  const { pid } = (await ask(file, { cmd: "ping" })) as { pid: number };
  // by pid and start time, so that a pid used again by another process does not keep attach going
  const startTime = processes().read(pid)?.startTime ?? 0;
  const alive = (): boolean => isSameProcess(pid, startTime);
  process.stderr.write(`vigil: attached to the supervisor (pid ${pid}); ctrl-c detaches, the stack runs on\n`);
  // the name column as wide as `vigil up` makes it: for every instance of the stack
  const doc = (await ask(file, { cmd: "status" })) as StatusDocument;
  await logsCommand(names, file, { lines: opts.lines, follow: true, timestamps: opts.timestamps, alive, columns: doc.services.map((s) => s.name) });
  if (!alive()) process.stderr.write("vigil: the supervisor has stopped\n");
}
