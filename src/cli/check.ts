import { stringify } from "yaml";
import { loadManifestDocument } from "../manifest/load.js";
import { ManifestError } from "../manifest/errors.js";
import { UserError } from "./user-error.js";

export interface CheckOptions {
  /** print the manifest as it runs (variables replaced, secrets masked) instead of the summary */
  readonly print?: boolean;
}

export async function checkCommand(file: string, options: CheckOptions = {}): Promise<void> {
  try {
    const { manifest, shown } = await loadManifestDocument(file);
    if (options.print) {
      process.stdout.write(stringify(shown, { lineWidth: 0, aliasDuplicateObjects: false }));
      return;
    }
    const n = manifest.services.length;
    process.stdout.write(`${file}: ok (${n} service${n === 1 ? "" : "s"})\n`);
  } catch (err) {
    if (err instanceof ManifestError) throw new UserError(err.format(), 2, { cause: err });
    throw err;
  }
}
