// `vigil export systemd|kubernetes`: the mapping is pure (src/export/); this reads the manifest and
// its env files, finds programs on the PATH, and writes the files and the warnings.
import { accessSync, constants, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseEnvFile } from "../manifest/env-file.js";
import { ManifestError } from "../manifest/errors.js";
import { loadManifest } from "../manifest/load.js";
import { MAX_ENV_FILE_BYTES, readBoundedSync } from "../manifest/read-bounded.js";
import type { Manifest } from "../manifest/types.js";
import { exportKubernetes } from "../export/kubernetes.js";
import { joinFiles, lossWarning, type ExportResult, type ExportTarget } from "../export/losses.js";
import { defaultStackName, exportableServices, stackLosses } from "../export/stack.js";
import { exportSystemd } from "../export/systemd.js";
import { UserError } from "./user-error.js";

export const EXPORT_TARGETS = ["systemd", "kubernetes"] as const satisfies readonly ExportTarget[];

export async function exportCommand(target: string, file: string, outDir: string | undefined): Promise<void> {
  if (!(EXPORT_TARGETS as readonly string[]).includes(target)) {
    throw new UserError(`vigil: unknown export target "${target}"; use systemd or kubernetes`, 2);
  }
  const { manifest, envFiles } = await load(file);
  const input = { manifest: exportableServices(manifest), stackName: defaultStackName(manifest.file), envFiles };
  const result: ExportResult = target === "systemd" ? exportSystemd({ ...input, findProgram: onPath }) : exportKubernetes(input);
  // what only vigil watches (adopt: without a command, ping:) is named, though left out of the files
  const watchOnly = stackLosses(manifest, target as ExportTarget).filter((loss) => !result.losses.some((l) => l.subject === loss.subject && l.key === loss.key));
  for (const loss of watchOnly) process.stderr.write(`${lossWarning(loss, target as ExportTarget)}\n`);
  for (const loss of result.losses) process.stderr.write(`${lossWarning(loss, target as ExportTarget)}\n`);
  if (outDir === undefined) {
    process.stdout.write(joinFiles(result.files));
    return;
  }
  await mkdir(outDir, { recursive: true });
  for (const out of result.files) await writeFile(join(outDir, out.name), out.text);
  process.stderr.write(`wrote ${result.files.length} files to ${outDir}\n`);
}

/** The manifest as `vigil check` reads it, with each env_file's own variables as the loader read them. */
async function load(file: string): Promise<{ manifest: Manifest; envFiles: Map<string, Record<string, string>> }> {
  const envFiles = new Map<string, Record<string, string>>();
  const readFile = (path: string): string => {
    const text = readBoundedSync(path, MAX_ENV_FILE_BYTES);
    envFiles.set(path, parseEnvFile(text).env);
    return text;
  };
  try {
    return { manifest: await loadManifest(file, { readFile }), envFiles };
  } catch (err) {
    if (err instanceof ManifestError) throw new UserError(err.format(), 2, { cause: err });
    throw err;
  }
}

/** Where the PATH finds an executable program, as a spawn by vigil would. */
export function onPath(name: string): string | null {
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
