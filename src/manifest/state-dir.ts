import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { parseEnvFile } from "./env-file.js";
import { interpolate, mayInterpolate } from "./interpolate.js";

const DEFAULT_STATE_DIR = ".vigil";

/**
 * Where the supervisor of `manifestFile` keeps its sockets, read without validating the rest, so that
 * `vigil status` and `vigil down` still reach a running supervisor while the file holds a bad edit.
 */
export function stateDirOf(manifestFile: string): string {
  const file = resolve(manifestFile);
  let stateDir: unknown = DEFAULT_STATE_DIR;
  try {
    const text = readFileSync(file, "utf8");
    const quick = quickStateDir(text);
    stateDir = quick !== undefined ? quick : fullParseStateDir(text);
  } catch {
    // unreadable or broken: the default is the best guess
  }
  const written = typeof stateDir === "string" && stateDir !== "" ? stateDir : DEFAULT_STATE_DIR;
  return resolve(dirname(file), mayInterpolate(written) ? interpolated(written, dirname(file)) : written);
}

/** state_dir: ${VAR}, as the loader reads it (the environment, then .env); as written when that fails. */
function interpolated(written: string, dir: string): string {
  let dotEnv: Record<string, string> | undefined;
  const fromFile = (name: string): string | undefined => {
    if (dotEnv === undefined) {
      try {
        dotEnv = parseEnvFile(readFileSync(join(dir, ".env"), "utf8")).env;
      } catch {
        dotEnv = {};
      }
    }
    return dotEnv[name];
  };
  const result = interpolate(written, (name) => process.env[name] ?? fromFile(name));
  return result.value === "" ? DEFAULT_STATE_DIR : result.value;
}

/**
 * The answer without a YAML parser where the text makes it certain (parsing the manifest of 1,000
 * services took 330 ms, most of a `vigil status`): no `state_dir` anywhere (nor an escape that could
 * spell it), or one top-level `state_dir:` line with a plain path or a quoted string without escapes.
 * undefined: ask the parser.
 */
export function quickStateDir(text: string): string | null | undefined {
  if (!text.includes("state_dir")) return /\\[xuU]/.test(text) ? undefined : null;
  const lines = [...text.matchAll(/^state_dir:(.*)$/gm)];
  if (lines.length !== 1) return undefined;
  const value = lines[0]![1]!.replace(/\r$/, "");
  const quoted = /^[ \t]+(?:"([^"\\]*)"|'([^']*)')[ \t]*(?:#.*)?$/.exec(value);
  if (quoted) return quoted[1] ?? quoted[2] ?? undefined;
  const plain = /^[ \t]+([A-Za-z0-9_./-]+)[ \t]*(?:[ \t]#.*)?$/.exec(value);
  // a plain scalar YAML would read as something other than a string (null, true, 12, .inf) is the parser's
  if (!plain || /^(?:[-+]?\.?[0-9]|\.inf$|\.nan$|null$|true$|false$|yes$|no$|on$|off$|y$|n$)/i.test(plain[1]!)) return undefined;
  return plain[1];
}

function fullParseStateDir(text: string): unknown {
  // loaded only here: the quick path is what `vigil status` takes for any ordinary manifest
  const { parse } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  const doc: unknown = parse(text);
  return doc && typeof doc === "object" && "state_dir" in doc ? (doc as { state_dir: unknown }).state_dir : DEFAULT_STATE_DIR;
}
