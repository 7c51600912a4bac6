// The export tests' input: a manifest loaded as if it lay in /srv/NAME, so that the expected files
// hold no path of the machine that runs the tests.
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseEnvFile } from "../../src/manifest/env-file.js";
import { parseManifest } from "../../src/manifest/load.js";
import type { ExportInput } from "../../src/export/stack.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const FIXTURES = join(import.meta.dirname, "fixtures");

/** `dir` holds supervisor.yaml and the files it names; it is read as /srv/NAME. */
export function loadAs(dir: string, name: string): ExportInput {
  const home = `/srv/${name}`;
  const envFiles = new Map<string, Record<string, string>>();
  const readFile = (path: string): string => {
    const text = readFileSync(join(dir, relative(home, path)), "utf8");
    envFiles.set(path, parseEnvFile(text).env);
    return text;
  };
  const manifest = parseManifest(readFileSync(join(dir, "supervisor.yaml"), "utf8"), `${home}/supervisor.yaml`, { readFile });
  return { manifest, stackName: name, envFiles };
}

/** Programs as a PATH of /usr/bin alone would find them. */
export const inUsrBin = (name: string): string => `/usr/bin/${name}`;
