import { describe, expect, it } from "vitest";
import { didYouMean, editDistance, suggest } from "../../src/manifest/suggest.js";

describe("editDistance", () => {
  it("counts an adjacent transposition as one edit", () => {
    expect(editDistance("restrat", "restart")).toBe(1);
  });

  it("counts insertions, deletions and substitutions", () => {
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });
});

describe("suggest", () => {
  const keys = ["command", "cwd", "env", "env_file", "restart", "stop", "heartbeat"];

  it("offers the closest candidate", () => {
    expect(suggest("restrat", keys)).toBe("restart");
    expect(suggest("comand", keys)).toBe("command");
    expect(suggest("envfile", keys)).toBe("env_file");
  });

  it("ignores case when comparing", () => {
    expect(suggest("Always", ["always", "never"])).toBe("always");
  });

  it("offers nothing when no candidate is close enough", () => {
    expect(suggest("banana", keys)).toBeUndefined();
    expect(suggest("xyz", [])).toBeUndefined();
  });

  it("allows one edit even for short words", () => {
    expect(suggest("cw", keys)).toBe("cwd");
    expect(suggest("ab", ["cd"])).toBeUndefined();
  });
});

describe("didYouMean", () => {
  it("phrases a suggestion to append to a message", () => {
    expect(didYouMean("sockt", ["ipc", "socket"])).toBe(', did you mean "socket"?');
  });

  it("is empty for non-strings and far-off input", () => {
    expect(didYouMean(3, ["ipc"])).toBe("");
    expect(didYouMean("zzzzzz", ["ipc"])).toBe("");
  });
});
