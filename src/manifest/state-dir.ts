import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";

/**
 * Where the supervisor of `manifestFile` keeps its sockets, read without validating the rest, so that
 * `vigil status` and `vigil down` still reach a running supervisor while the file holds a bad edit.
 */
export function stateDirOf(manifestFile: string): string {
  const file = resolve(manifestFile);
  let stateDir: unknown = ".vigil";
  try {
    const doc: unknown = parse(readFileSync(file, "utf8"));
    if (doc && typeof doc === "object" && "state_dir" in doc) stateDir = (doc as { state_dir: unknown }).state_dir;
  } catch {
    // unreadable or broken: the default is the best guess
  }
  return resolve(dirname(file), typeof stateDir === "string" && stateDir !== "" ? stateDir : ".vigil");
}
