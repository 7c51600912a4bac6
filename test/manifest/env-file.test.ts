import { describe, expect, it } from "vitest";
import { parseEnvFile } from "../../src/manifest/env-file.js";

describe("parseEnvFile", () => {
  it("reads KEY=VALUE lines, export prefixes, quotes, comments and blank lines", () => {
    const text = [
      "# database",
      "",
      "HOST=localhost",
      "export PORT = 5432",
      "NAME='my db' # trailing",
      'GREETING="hello\\nworld \\"you\\""',
      "RAW='no $expansion \\n here'",
      "URL=http://x/#anchor",
      "NOTE=value # comment",
      "EMPTY=",
    ].join("\n");
    expect(parseEnvFile(text)).toEqual({
      env: {
        HOST: "localhost",
        PORT: "5432",
        NAME: "my db",
        GREETING: 'hello\nworld "you"',
        RAW: "no $expansion \\n here",
        URL: "http://x/#anchor",
        NOTE: "value",
        EMPTY: "",
      },
      problems: [],
    });
  });

  it("accepts CRLF line ends", () => {
    expect(parseEnvFile("A=1\r\nB=2\r\n").env).toEqual({ A: "1", B: "2" });
  });

  it("reports malformed lines with line and column", () => {
    expect(parseEnvFile("A=1\n  not a pair\nB=\"open\nC='x' y\n").problems).toEqual([
      { line: 2, col: 3, message: "expected KEY=VALUE" },
      { line: 3, col: 3, message: "B: unterminated double quote" },
      { line: 4, col: 3, message: "C: unexpected text after the closing quote" },
    ]);
  });
});
