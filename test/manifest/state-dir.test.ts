import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { quickStateDir, stateDirOf } from "../../src/manifest/state-dir.js";

describe("quickStateDir", () => {
  it("answers without a parser for a manifest without state_dir, or with a plain or quoted one", () => {
    expect(quickStateDir("version: 1\nservices: {}\n")).toBeNull();
    expect(quickStateDir("state_dir: .vigil-prod\n")).toBe(".vigil-prod");
    expect(quickStateDir('state_dir: "/srv/app state"  # where\n')).toBe("/srv/app state");
    expect(quickStateDir("state_dir: 'run'\r\n")).toBe("run");
    expect(quickStateDir("state_dir: st # comment\n")).toBe("st");
  });

  it("leaves to the parser what YAML may read otherwise", () => {
    for (const text of [
      "state_dir: 12\n", "state_dir: null\n", "state_dir: ~\n", "state_dir: .5\n", "state_dir: yes\n",
      "state_dir:\n  nested\n", "state_dir: a:b\n", "state_dir: a\nstate_dir: b\n", "  state_dir: indented\n",
      'x: "\\u0073tate"\n', 'state_dir: "esc\\taped"\n',
    ]) expect(quickStateDir(text), text).toBeUndefined();
  });
});

describe("stateDirOf", () => {
  it("agrees with the YAML parser on a manifest the quick path cannot read", () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-state-dir-"));
    const file = join(dir, "supervisor.yaml");
    writeFileSync(file, "version: 1\nstate_dir: &d \"run\\x2Ddir\"\nservices: {}\n");
    expect(stateDirOf(file)).toBe(join(dir, "run-dir"));
    writeFileSync(file, "version: 1\nstate_dir: run\nservices: {}\n");
    expect(stateDirOf(file)).toBe(join(dir, "run"));
    writeFileSync(file, "version: 1\nstate_dir: 12\n");
    expect(stateDirOf(file)).toBe(join(dir, ".vigil"));
  });

  it("reads ${VAR} in state_dir as the loader does: the environment, then .env beside the manifest", () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-state-dir-"));
    const file = join(dir, "supervisor.yaml");
    writeFileSync(file, "version: 1\nstate_dir: ${VIGIL_TEST_STATE_DIR:-run}/$${x}\nservices: {}\n");
    expect(stateDirOf(file)).toBe(join(dir, "run/${x}"));
    writeFileSync(join(dir, ".env"), "VIGIL_TEST_STATE_DIR=from-dot-env\n");
    expect(stateDirOf(file)).toBe(join(dir, "from-dot-env/${x}"));
    process.env["VIGIL_TEST_STATE_DIR"] = "from-env";
    try {
      expect(stateDirOf(file)).toBe(join(dir, "from-env/${x}"));
    } finally {
      delete process.env["VIGIL_TEST_STATE_DIR"];
    }
  });
});
