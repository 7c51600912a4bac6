import { describe, expect, it } from "vitest";
import { interpolate, isSecretName } from "../../src/manifest/interpolate.js";

const ENV: Readonly<Record<string, string>> = { PORT: "3000", HOST: "db", EMPTY: "", API_TOKEN: "t0k3n" };
const lookup = (name: string): string | undefined => ENV[name];
const value = (text: string): string => {
  const result = interpolate(text, lookup);
  expect(result.problems).toEqual([]);
  return result.value;
};
const problems = (text: string) => interpolate(text, lookup).problems;

describe("interpolate", () => {
  it("replaces ${VAR} with the variable's value, anywhere in the string", () => {
    expect(value("node app.js --port ${PORT}")).toBe("node app.js --port 3000");
    expect(value("${HOST}:${PORT}")).toBe("db:3000");
    expect(value("x${EMPTY}y")).toBe("xy");
  });

  it("leaves strings without ${ or $$ as they are", () => {
    expect(value("plain")).toBe("plain");
    expect(value("")).toBe("");
  });

  it("keeps $VAR, $1 and a lone $ for the shell, and makes $$ one literal $", () => {
    expect(value("echo $HOME $1 $ cost$")).toBe("echo $HOME $1 $ cost$");
    expect(value("echo $$ $${PORT} $$$$")).toBe("echo $ ${PORT} $$");
    expect(value("$$$PORT")).toBe("$$PORT");
  });

  it("takes the default of ${VAR:-default} when the variable is unset or empty", () => {
    expect(value("${NOPE:-8080}")).toBe("8080");
    expect(value("${EMPTY:-fallback}")).toBe("fallback");
    expect(value("${PORT:-8080}")).toBe("3000");
    expect(value("${NOPE:-}")).toBe("");
    expect(value("${NOPE:-a b: c}")).toBe("a b: c");
  });

  it("interpolates inside a default", () => {
    expect(value("${NOPE:-${HOST}:${PORT}}")).toBe("db:3000");
    expect(value("${NOPE:-${ALSO_NOPE:-x}}")).toBe("x");
    expect(value("${NOPE:-$${literal}}")).toBe("${literal}");
  });

  it("reports an unset variable without a default at its $", () => {
    expect(problems("run --port ${NOPE}")).toEqual([{ offset: 11, message: expect.stringMatching(/^variable NOPE is not set; .*\$\{NOPE:-…\}/) }]);
  });

  it("reports every unset variable of a string", () => {
    expect(problems("${A}-${B}").map((p) => p.offset)).toEqual([0, 5]);
  });

  it("reports ${VAR:?message} with the message when the variable is unset or empty", () => {
    expect(problems("x ${NOPE:?set NOPE to the database URL}")).toEqual([{ offset: 2, message: "NOPE: set NOPE to the database URL" }]);
    expect(problems("${EMPTY:?}")).toEqual([{ offset: 0, message: "EMPTY: is not set or is empty" }]);
    expect(value("${PORT:?needed}")).toBe("3000");
  });

  it("keeps the text as written when there is a problem", () => {
    expect(interpolate("a ${NOPE} b", lookup).value).toBe("a ${NOPE} b");
  });

  describe("malformed references", () => {
    it.each([
      ["unterminated", "run ${PORT", 4, /unterminated "\$\{PORT": no closing \}/],
      ["unterminated after the name's start", "run ${", 4, /unterminated "\$\{": no closing \}/],
      ["unterminated default", "x ${A:-${B}", 2, /unterminated "\$\{A:-…": no closing \}/],
      ["empty name", "a ${} b", 2, /empty variable name in "\$\{\}"/],
      ["a name starting with a digit", "${1X}", 0, /bad variable name at "1"/],
      ["a dash in the name", "${MY-VAR}", 0, /unexpected "-" in "\$\{MY…\}"/],
      ["a dot in the name", "${a.b}", 0, /unexpected "\." in "\$\{a…\}"/],
      ["a space", "${ A}", 0, /bad variable name at " "/],
      ["an operator vigil does not know", "${A:+x}", 0, /unexpected ":" in "\$\{A…\}"/],
      ["a bad reference inside a default", "${A:-${}}", 5, /empty variable name/],
    ])("reports %s at its $", (_what, text, offset, message) => {
      const found = problems(text);
      expect(found).toHaveLength(1);
      expect(found[0]?.offset).toBe(offset);
      expect(found[0]?.message).toMatch(message);
      expect(found[0]?.message).toMatch(/\$\{NAME:-default\}/);
    });
  });

  it("masks the values of secret-named variables, default or not", () => {
    const result = interpolate("--token=${API_TOKEN} --port=${PORT} --key=${SIGNING_KEY:-dev}", lookup);
    expect(result.value).toBe("--token=t0k3n --port=3000 --key=dev");
    expect(result.masked).toBe("--token=*** --port=3000 --key=***");
  });

  it("counts TOKEN, SECRET, PASSWORD and KEY in any case as secret names", () => {
    for (const name of ["API_TOKEN", "secret", "DbPassword", "ssh_key", "MONKEY"]) expect(isSecretName(name)).toBe(true);
    for (const name of ["PORT", "HOST", "PASS", "TOKE"]) expect(isSecretName(name)).toBe(false);
  });
});
