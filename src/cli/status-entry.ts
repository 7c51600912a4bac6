// `vigil status`, which scripts and watch loops run again and again, as one CommonJS file:
// scripts/build-status-cli.js bundles this into dist/cli/status.cjs, and bin/vigil runs that for
// `status`. Node starts a CommonJS file without its ES module loader, and one file is read instead of a
// dozen: about 15 ms of the 110 to 140 ms a `vigil status --json` takes on a small machine
// (BENCHMARKS.md). What quickStatusArgs is not certain of (help, an unknown option) is main.js's.
import { guardOutput, reportFailure } from "./entry.js";
import { manifestFile } from "./find-manifest.js";
import { quickStatusArgs } from "./quick-args.js";
import { statusCommand } from "./status.js";

const status = quickStatusArgs(process.argv.slice(2));
if (status === null) {
  // commander reads it as it reads every command; main.js runs on being loaded
  void import(new URL("./main.js", import.meta.url).href);
} else {
  guardOutput(process.argv);
  // no manifest found is a UserError of manifestFile's: a line, not a stack trace
  Promise.resolve()
    .then(() => statusCommand(status.names, manifestFile(status.file, 1), status))
    .catch(reportFailure);
}
