import { describe, expect, it } from "vitest";
import { commandArgv, splitCommand } from "../../src/manifest/command.js";

describe("splitCommand", () => {
  it("splits on whitespace and honours quotes and backslashes", () => {
    expect(splitCommand(`node "my app.js" 'a b' c\\ d "q\\"x"`)).toEqual({ ok: true, argv: ["node", "my app.js", "a b", "c d", 'q"x'] });
  });

  it("keeps $VAR and ${VAR} literally, in and out of quotes", () => {
    expect(splitCommand(`echo $HOME "$X/y" \${Y}z '$Z'`)).toEqual({ ok: true, argv: ["echo", "$HOME", "$X/y", "${Y}z", "$Z"] });
  });

  it.each([
    ["node app.js | tee log", '"|" needs a shell'],
    ["node app.js > out", '">" needs a shell'],
    ["make && make install", '"&&" needs a shell'],
    ["a; b", '";" needs a shell'],
    ["ls *.js", 'the glob "*.js" needs a shell'],
    ["echo $(date)", '"(" needs a shell'],
    ["echo `date`", "command substitution"],
    ["node app.js # comment", "a # comment needs a shell"],
  ])("rejects %j because it needs a shell", (command, message) => {
    const result = splitCommand(command);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(message);
    expect(!result.ok && result.message).toContain("shell: true");
  });

  it("rejects an unterminated quote", () => {
    expect(splitCommand(`echo "open`)).toEqual({ ok: false, message: "unterminated double quote" });
    expect(splitCommand(`echo 'open`)).toEqual({ ok: false, message: "unterminated single quote" });
  });

  it("accepts operators inside quotes", () => {
    expect(splitCommand(`grep "a|b" '*.js'`)).toEqual({ ok: true, argv: ["grep", "a|b", "*.js"] });
  });

  it("reads # as a comment only at the start of a word, and an escaped glob literally, as a shell does", () => {
    expect(splitCommand(`curl http://x/#top \\*.js ""`)).toEqual({ ok: true, argv: ["curl", "http://x/#top", "*.js", ""] });
  });

  // shell-quote, used before, concatenated its result once per word (65,536 words took 46 s, these
  // 100,000 about two minutes) and overflowed the stack on a long quoted word
  it("splits a hundred thousand words in one pass", () => {
    const words = splitCommand("a ".repeat(100_000));
    expect(words.ok && words.argv.length).toBe(100_000);
  });

  it("splits a quoted word of ten million characters", () => {
    const long = splitCommand(`echo "${"x".repeat(10_000_000)}"`);
    expect(long.ok && long.argv[1]?.length).toBe(10_000_000);
  });
});

describe("commandArgv", () => {
  it("passes a string to /bin/sh -c unchanged when shell is true", () => {
    expect(commandArgv("a | b", true)).toEqual({ ok: true, display: "a | b", argv: ["/bin/sh", "-c", "a | b"] });
  });

  it("joins a list with spaces for the shell", () => {
    expect(commandArgv(["echo", "$HOME"], true)).toEqual({ ok: true, display: "echo $HOME", argv: ["/bin/sh", "-c", "echo $HOME"] });
  });

  it("takes a list as argv without a shell", () => {
    expect(commandArgv(["echo", "a b"], false)).toEqual({ ok: true, display: "echo 'a b'", argv: ["echo", "a b"] });
  });

  it("refuses what exec would refuse: an argument over Linux's 128 KiB, or a NUL", () => {
    expect(commandArgv(`echo ${"x".repeat(131_071)}`, false).ok).toBe(true);
    expect(commandArgv(`echo ${"x".repeat(131_072)}`, false)).toEqual({
      ok: false,
      message: "an argument of 131072 bytes is longer than Linux allows (131071 bytes); put it in a file or a script",
    });
    expect(commandArgv("x".repeat(200_000), true)).toMatchObject({ ok: false, message: /argument of 200000 bytes/ });
    expect(commandArgv(["echo", "a\0b"], false)).toEqual({ ok: false, message: "a command cannot contain a NUL character" });
  });
});
