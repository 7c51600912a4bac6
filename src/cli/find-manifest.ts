// Which manifest a command acts on: -f FILE, else $VIGIL_FILE, else supervisor.yaml in the current
// directory or the nearest directory above it that has one (as docker compose finds its file).
import { statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { UserError } from "./user-error.js";

export const DEFAULT_MANIFEST = "supervisor.yaml";

export type ManifestSearch = { readonly found: true; readonly file: string } | { readonly found: false; readonly message: string };

/** `file` as the user will read it in messages: as given, or relative to `cwd` when found by the search. */
export function findManifest(given: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): ManifestSearch {
  if (given !== undefined) return { found: true, file: given };
  const named = env["VIGIL_FILE"];
  if (named !== undefined && named !== "") return { found: true, file: named };
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, DEFAULT_MANIFEST);
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) return { found: true, file: relative(cwd, candidate) };
    if (dirname(dir) === dir) break;
  }
  return {
    found: false,
    message: `vigil: no ${DEFAULT_MANIFEST} in ${resolve(cwd)} or any directory above it; name the manifest with -f FILE or VIGIL_FILE`,
  };
}

/** The manifest's path, or a UserError with `exitCode` (2 where a missing manifest is an invalid one, 1 where it means no supervisor). */
export function manifestFile(given: string | undefined, exitCode: number): string {
  const search = findManifest(given);
  if (!search.found) throw new UserError(search.message, exitCode);
  return search.file;
}
