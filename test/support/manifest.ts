// What the manifest loader says of a manifest it must refuse, a line per problem.
import { ManifestError } from "../../src/manifest/errors.js";
import { parseManifest, type ParseOptions } from "../../src/manifest/load.js";

/** The problem lines of a manifest that must be rejected; fails the test when it is accepted. */
export function problems(text: string, file = "supervisor.yaml", options?: ParseOptions): string[] {
  try {
    parseManifest(text, file, options);
  } catch (error) {
    if (error instanceof ManifestError) return error.format().split("\n");
    throw error;
  }
  throw new Error("expected the manifest to be rejected");
}
