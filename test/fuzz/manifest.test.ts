// Whatever the text, parseManifest returns a manifest or throws a ManifestError whose every problem
// names the file and, when it is about the document, a line and column inside the text; it prints
// as one line per problem, without a stack trace. Nothing else is ever thrown.
import fc from "fast-check";
import { describe, it } from "vitest";
import { ManifestError } from "../../src/manifest/errors.js";
import { parseManifest } from "../../src/manifest/load.js";
import { fuzzParams } from "../support/fuzz.js";
import { nastyString, textEdits, valueEdits, withTextEdits, withValues } from "./manifest-arbitraries.js";
import { yamlCorners, yamlNoise } from "./yaml-corners.js";

const FILE = "/srv/app/supervisor.yaml";

/** Line ends, controls and bidi overrides that would break "one line per problem" or disguise one. */
const UNPRINTABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function fail(text: string, why: string): never {
  const shown = text.length > 2_000 ? `${text.slice(0, 2_000)}… (${text.length} characters)` : text;
  throw new Error(`${why}\n--- manifest ---\n${JSON.stringify(shown)}`);
}

/** The loader's promise, checked for one text; `envText` is what every env_file holds. */
export function assertLoaderPromise(text: string, envText: string | null = null): void {
  const readFile = (path: string): string => {
    if (envText === null) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return envText;
  };
  let error: unknown;
  try {
    parseManifest(text, FILE, { readFile });
    return;
  } catch (caught) {
    error = caught;
  }
  if (!(error instanceof ManifestError)) fail(text, `threw something other than a ManifestError: ${(error as Error)?.stack ?? String(error)}`);
  if (error.issues.length === 0) fail(text, "a ManifestError without problems");
  const lines = text.split("\n");
  for (const issue of error.issues) {
    if (issue.file === "") fail(text, `a problem without a file: ${JSON.stringify(issue)}`);
    if (issue.file !== FILE) continue; // an env file's problem, positioned in that file
    const { line, col } = issue;
    if (line === undefined || col === undefined) fail(text, `a problem of the document without a position: ${JSON.stringify(issue)}`);
    if (line < 1 || line > lines.length || col < 1 || col > (lines[line - 1]?.length ?? 0) + 1) {
      fail(text, `a position outside the text: ${JSON.stringify(issue)}`);
    }
  }
  const printed = error.format().split("\n");
  if (printed.length !== error.issues.length) fail(text, `${error.issues.length} problems printed as ${printed.length} lines:\n${error.format()}`);
  printed.forEach((out, i) => {
    const issue = error.issues[i];
    if (!out.startsWith(`${issue?.file}:`)) fail(text, `a line that does not start with its file: ${JSON.stringify(out)}`);
    if (issue?.file === FILE && !/^[^\n]*?:\d+:\d+: /.test(out)) fail(text, `a line without LINE:COL: ${JSON.stringify(out)}`);
    if (/^\s+at /m.test(out) || UNPRINTABLE.test(out)) fail(text, `a line with a stack trace or unprintable characters: ${JSON.stringify(out)}`);
  });
}

const check = (text: string): true => {
  assertLoaderPromise(text);
  return true;
};

describe("the manifest loader under fuzzing", () => {
  it("keeps its promise for valid manifests damaged as text", () => {
    fc.assert(fc.property(textEdits.map(withTextEdits), check), fuzzParams(4_000));
  });

  it("keeps its promise for values of every type at every key", () => {
    fc.assert(fc.property(valueEdits.map(withValues), check), fuzzParams(4_000));
  });

  it("keeps its promise for aliases, bombs, deep nesting, tags, documents, BOMs and tabs", () => {
    fc.assert(fc.property(yamlCorners, check), fuzzParams(2_000));
  });

  it("keeps its promise for noise", () => {
    fc.assert(fc.property(yamlNoise, check), fuzzParams(1_000));
  });

  it("keeps its promise for odd env files", () => {
    const manifest = "version: 1\nservices:\n  api:\n    command: x\n    env_file: .env\n";
    const envText = fc.array(fc.oneof(nastyString, fc.constantFrom("A=1", "export B='x", 'C="\\n', "=", "1A=2", "#x", " D = 4 # c")), { maxLength: 6 }).map((l) => l.join("\n"));
    fc.assert(
      fc.property(envText, (env) => {
        assertLoaderPromise(manifest, env);
        return true;
      }),
      fuzzParams(500),
    );
  });
});
