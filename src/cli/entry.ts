// What every entry of the CLI does around its command: main.ts, and status-entry.ts (`vigil status`).
import { UserError } from "./user-error.js";

/**
 * The reader went away (`vigil status --json | head -c 100`): nobody is left to tell, so end quietly.
 * Not for `vigil up`, which supervises on without its output (cli/losable-output.ts).
 */
export function guardOutput(argv: readonly string[]): void {
  if (argv[2] === "up") return;
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    process.stderr.write(`vigil: cannot write the output: ${err.message}\n`);
    process.exit(1);
  });
}

/** A command failed: the person's one line and exit status for a user error, the stack only for a bug. */
export async function reportFailure(err: unknown): Promise<void> {
  if (err instanceof UserError) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = err.exitCode;
    return;
  }
  const { CommanderError } = await import("commander");
  if (err instanceof CommanderError) {
    // commander has printed its one line already; help and version are not failures
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    return;
  }
  process.stderr.write(`vigil: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 70;
}
