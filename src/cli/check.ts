import { loadManifest } from "../manifest/load.js";
import { ManifestError } from "../manifest/errors.js";
import { UserError } from "./user-error.js";

export async function checkCommand(file: string): Promise<void> {
  try {
    const manifest = await loadManifest(file);
    const n = manifest.services.length;
    process.stdout.write(`${file}: ok (${n} service${n === 1 ? "" : "s"})\n`);
  } catch (err) {
    if (err instanceof ManifestError) throw new UserError(err.format(), 2, { cause: err });
    throw err;
  }
}
