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
});
