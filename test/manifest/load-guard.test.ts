// Whatever the text, the loader returns a manifest or throws a ManifestError with located problems.
import { describe, expect, it } from "vitest";
import { ManifestError } from "../../src/manifest/errors.js";
import { parseManifest, type ParseOptions } from "../../src/manifest/load.js";

const lines = (...text: string[]): string => `${text.join("\n")}\n`;

function rejection(text: string, options: ParseOptions = {}): ManifestError {
  try {
    parseManifest(text, "supervisor.yaml", options);
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error("expected the manifest to be rejected");
}

describe("the loader's guarantee", () => {
  it("turns a check that fails unexpectedly into a problem at the service it checked, keeping the cause", () => {
    const text = lines("version: 1", "services:", "  db:", "    command: db", "  api:", "    command: x", "    env_file: .env");
    // a reader that breaks its contract stands for any bug in resolving one service
    const error = rejection(text, { readFile: () => 42 as unknown as string });
    expect(error.format()).toBe(
      "supervisor.yaml:6:5: services.api: vigil could not check this (TypeError: text.split is not a function); please report this as a bug",
    );
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it("says where the document nests too deeply to be read", () => {
    const deep = `version: 1\nservices: ${"[".repeat(5_000)}${"]".repeat(5_000)}\n`;
    const [first] = rejection(deep).format().split("\n");
    expect(first).toMatch(/^supervisor\.yaml:2:\d+: the document nests too deeply here$/);
  });
});
