// The whole output of each target, for the example stack and for a manifest that uses every key,
// against files kept beside this test (vitest -u writes them anew). Each mapping and each warning
// can be read there.
import { describe, expect, it } from "vitest";
import { exportKubernetes } from "../../src/export/kubernetes.js";
import { joinFiles, lossWarning, type ExportResult, type ExportTarget } from "../../src/export/losses.js";
import { exportSystemd } from "../../src/export/systemd.js";
import { FIXTURES, ROOT, inUsrBin, loadAs } from "./load-fixture.js";
import { join } from "node:path";

const STACKS = { example: ROOT, "every-key": join(FIXTURES, "every-key") } as const;

function run(target: ExportTarget, stack: keyof typeof STACKS): ExportResult {
  const input = loadAs(STACKS[stack], stack);
  return target === "systemd" ? exportSystemd({ ...input, findProgram: inUsrBin }) : exportKubernetes(input);
}

function golden(target: ExportTarget, result: ExportResult): string {
  const warnings = result.losses.map((loss) => lossWarning(loss, target)).join("\n");
  return `${joinFiles(result.files)}\n# --- stderr\n${warnings}\n`;
}

describe.each(["systemd", "kubernetes"] as const)("vigil export %s", (target) => {
  it.each(Object.keys(STACKS) as (keyof typeof STACKS)[])("writes the %s stack as expected, with its warnings", async (stack) => {
    await expect(golden(target, run(target, stack))).toMatchFileSnapshot(`golden/${stack}.${target}.txt`);
  });

  it("writes every loss both as a warning and as a comment in the files", () => {
    const result = run(target, "every-key");
    const text = result.files.map((file) => file.text).join("\n");
    for (const loss of result.losses) expect(text).toContain(`# ${loss.key} does not map to ${target}: ${loss.why}`);
  });
});
