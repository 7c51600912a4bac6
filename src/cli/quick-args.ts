// `vigil status` parsed without commander. Loading commander is about 15 ms of the 100 ms that a
// `vigil status --json` in a script's loop may take (BENCHMARKS.md, "Scale"); node's own parseArgs is
// already in memory. Anything this is not certain of (help, an unknown or malformed option, another
// command) is left to commander, which reads it as before and says what is wrong.
import { parseArgs } from "node:util";

export interface StatusArgs {
  readonly names: readonly string[];
  /** as given with -f; undefined: findManifest() decides */
  readonly file: string | undefined;
  readonly json: boolean;
  readonly history: boolean;
  readonly watch: boolean;
}

/** `status [names...] [--json] [--history] [-w|--watch] [-f|--file FILE]` as commander reads it, or null */
export function quickStatusArgs(args: readonly string[]): StatusArgs | null {
  if (args[0] !== "status") return null;
  const rest = args.slice(1);
  // "--" and anything after it, and help, are commander's
  if (rest.some((a) => a === "--" || a === "-h" || a === "--help")) return null;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: "boolean" },
        history: { type: "boolean" },
        watch: { type: "boolean", short: "w" },
        file: { type: "string", short: "f" },
      },
    });
  } catch {
    return null;
  }
  const { values, positionals } = parsed;
  // commander refuses an option value that looks like an option ("-f --json"); parseArgs would take it
  if (values.file !== undefined && (values.file.startsWith("-") || values.file === "")) return null;
  return { names: positionals, file: values.file, json: values.json === true || values.history === true, history: values.history === true, watch: values.watch === true };
}
