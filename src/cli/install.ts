// `vigil install`: a systemd unit that runs this stack at boot. It writes the file and says what to
// run; it never runs systemctl itself.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ManifestError } from "../manifest/errors.js";
import { loadManifest } from "../manifest/load.js";
import { installedUnitName, installUnit } from "../export/install-unit.js";
import { defaultStackName } from "../export/stack.js";
import { UserError } from "./user-error.js";

export interface InstallOptions {
  readonly user: boolean;
  readonly print: boolean;
  readonly force: boolean;
}

/** bin/vigil of this package: dist/cli/install.js → ../../bin/vigil */
const VIGIL_BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/vigil");

export async function installCommand(file: string, options: InstallOptions): Promise<void> {
  let manifest;
  try {
    manifest = await loadManifest(file);
  } catch (err) {
    if (err instanceof ManifestError) throw new UserError(err.format(), 2, { cause: err });
    throw err;
  }
  const stackName = defaultStackName(manifest.file);
  const text = installUnit({ manifest, stackName, vigilBin: VIGIL_BIN, node: process.execPath, user: options.user });
  if (options.print) {
    process.stdout.write(text);
    return;
  }
  const name = installedUnitName(stackName);
  const path = join(unitDir(options.user), name);
  const existing = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw new UserError(`vigil: cannot read ${path}: ${err.message}`, 1, { cause: err });
  });
  if (existing !== null && existing !== text && !options.force) {
    throw new UserError(`vigil: ${path} exists and is different; --force replaces it (--print shows the new one)`, 1);
  }
  if (existing !== text) {
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text, { mode: 0o644 });
    } catch (err) {
      throw new UserError(`vigil: cannot write ${path}: ${(err as Error).message}`, 1, { cause: err });
    }
  }
  const systemctl = options.user ? "systemctl --user" : "systemctl";
  process.stdout.write(`${existing === text ? "unchanged" : "wrote"} ${path}\n`);
  process.stdout.write(`to start it now and at every boot, run:\n  ${systemctl} daemon-reload && ${systemctl} enable --now ${name}\n`);
  if (options.user) process.stdout.write(`a user's units start at boot only with lingering on: loginctl enable-linger ${userName()}\n`);
}

function unitDir(user: boolean): string {
  if (!user) return "/etc/systemd/system";
  const config = process.env["XDG_CONFIG_HOME"];
  return join(config !== undefined && config.startsWith("/") ? config : join(homedir(), ".config"), "systemd/user");
}

function userName(): string {
  return process.env["USER"] ?? process.env["LOGNAME"] ?? "$USER";
}
