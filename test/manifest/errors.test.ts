import { describe, expect, it } from "vitest";
import { ManifestError } from "../../src/manifest/errors.js";

const issues = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ file: "s.yaml", line: i + 1, col: 3, path: `services.s${i}`, message: "unknown key" }));

describe("ManifestError.format", () => {
  it("prints every problem, one line each, by default", () => {
    expect(new ManifestError(issues(300)).format().split("\n")).toHaveLength(300);
  });

  it("prints the first problems and counts the rest when limited", () => {
    const lines = new ManifestError(issues(300)).format(200).split("\n");
    expect(lines).toHaveLength(201);
    expect(lines[199]).toBe("s.yaml:200:3: services.s199: unknown key");
    expect(lines[200]).toBe("… and 100 more problems (300 in all; vigil check prints every one)");
    expect(new ManifestError(issues(200)).format(200).split("\n")).toHaveLength(200);
  });
});
