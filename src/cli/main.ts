#!/usr/bin/env node
import { guardOutput, reportFailure } from "./entry.js";
import { quickStatusArgs } from "./quick-args.js";

async function main(argv: readonly string[]): Promise<void> {
  guardOutput(argv);
  try {
    // `vigil status`, which scripts and watch loops run again and again, skips loading commander (bin/vigil
    // sends it to status-entry.ts, bundled; this is for `node dist/cli/main.js status`)
    const status = quickStatusArgs(argv.slice(2));
    if (status) {
      const [{ statusCommand }, { manifestFile }] = await Promise.all([import("./status.js"), import("./find-manifest.js")]);
      return await statusCommand(status.names, manifestFile(status.file, 1), status);
    }
    const { buildProgram } = await import("./program.js");
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    await reportFailure(err);
  }
}

await main(process.argv);
