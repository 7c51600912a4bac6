#!/usr/bin/env node
import { UserError } from "./user-error.js";
import { quickStatusArgs } from "./quick-args.js";

async function main(argv: readonly string[]): Promise<void> {
  // the reader went away (`vigil status --json | head -c 100`): nobody is left to tell, so end quietly.
  // Not for `vigil up`, which supervises on without its output (cli/losable-output.ts).
  if (argv[2] !== "up") {
    process.stdout.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
      process.stderr.write(`vigil: cannot write the output: ${err.message}\n`);
      process.exit(1);
    });
  }
  try {
    // `vigil status`, which scripts and watch loops run again and again, skips loading commander
    const status = quickStatusArgs(argv.slice(2));
    if (status) {
      const [{ statusCommand }, { manifestFile }] = await Promise.all([import("./status.js"), import("./find-manifest.js")]);
      return await statusCommand(status.names, manifestFile(status.file, 1), status);
    }
    const { buildProgram } = await import("./program.js");
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
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
}

await main(process.argv);
