import { describe, expect, it } from "vitest";
import { environmentWord, execLine, execWord, specifierSafe } from "../../src/export/systemd-quote.js";

describe("systemd command lines", () => {
  it("leaves plain words alone", () => {
    expect(execLine(["/usr/bin/node", "examples/api.js", "--port=3000", "a,b:c@d+e"])).toBe("/usr/bin/node examples/api.js --port=3000 a,b:c@d+e");
  });

  it("doubles % (a specifier) and $ (a variable), and C-escapes quotes and backslashes inside double quotes", () => {
    expect(execWord("100%")).toBe('"100%%"');
    expect(execWord("$HOME")).toBe('"$$HOME"');
    expect(execWord("${X}")).toBe('"$${X}"');
    expect(execWord('say "hi"')).toBe('"say \\"hi\\""');
    expect(execWord("a\\b")).toBe('"a\\\\b"');
    expect(execWord("it's")).toBe('"it\'s"');
  });

  it("writes spaces, empty words and control characters so that the word survives", () => {
    expect(execWord("a b")).toBe('"a b"');
    expect(execWord("")).toBe('""');
    expect(execWord("one\ntwo\tthree\x01")).toBe('"one\\ntwo\\tthree\\x01"');
  });

  it("escapes a lone semicolon, which would end the command", () => {
    expect(execLine(["/bin/echo", ";", "a;b"])).toBe('/bin/echo \\; "a;b"');
  });

  it("runs a shell command as /bin/sh -c with one word for the script", () => {
    expect(execLine(["/bin/sh", "-c", 'echo "$PORT" 50% > /dev/null'])).toBe('/bin/sh -c "echo \\"$$PORT\\" 50%% > /dev/null"');
  });
});

describe("systemd Environment= assignments", () => {
  it("keeps $ as it is (no variables there) but doubles %", () => {
    expect(environmentWord("A", "b")).toBe("A=b");
    expect(environmentWord("GREETING", '100% "x" $HOME')).toBe('"GREETING=100%% \\"x\\" $HOME"');
    expect(environmentWord("MULTI", "one\ntwo")).toBe('"MULTI=one\\ntwo"');
    expect(environmentWord("EMPTY", "")).toBe("EMPTY=");
  });
});

describe("other values", () => {
  it("doubles % in paths and descriptions and keeps them on one line", () => {
    expect(specifierSafe("/srv/100%/app")).toBe("/srv/100%%/app");
    expect(specifierSafe("a\nb")).toBe("a b");
  });
});
