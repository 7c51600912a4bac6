// Found by the fuzzer: keys and values are printed as the file has them, so a line end, a control
// character or a bidi override in one split or disguised the problem's line.
import { describe, expect, it } from "vitest";
import { ManifestError } from "../../src/manifest/errors.js";
import { parseManifest } from "../../src/manifest/load.js";

function printed(text: string): string {
  try {
    parseManifest(text, "supervisor.yaml");
  } catch (error) {
    if (error instanceof ManifestError) return error.format();
    throw error;
  }
  throw new Error("expected the manifest to be rejected");
}

describe("problems print on one line, whatever the file holds", () => {
  it("escapes a NUL in a service's name", () => {
    expect(printed('version: 1\nservices:\n  "\\0agent": { command: x }\n')).toBe(
      "supervisor.yaml:3:3: services.\\u0000agent: a service name starts with a letter or digit and takes only letters, digits, _ . -",
    );
  });

  it("escapes a bidi mark in a value", () => {
    expect(printed("version: \u200f\nservices:\n  api: { command: x }\n")).toBe(
      'supervisor.yaml:1:10: version: unsupported version "\\u200f"; this vigil reads version 1',
    );
  });

  it("escapes line ends and a right-to-left override in a key", () => {
    expect(printed('version: 1\nservices:\n  api: { command: x, "a\\u2028b\\u202ec\\rd": 1 }\n').split("\n")).toEqual([
      'supervisor.yaml:3:22: services.api.a\\u2028b\\u202ec\\u000dd: unknown key "a\\u2028b\\u202ec\\u000dd"',
    ]);
  });

  it("escapes half a surrogate pair", () => {
    expect(printed('version: 1\nservices:\n  api: { command: x, cwd: 5, "\\ud800": 1 }\n')).toContain("services.api.\\ud800: unknown key");
  });
});
