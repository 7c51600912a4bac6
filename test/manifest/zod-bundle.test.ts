// vigil reaches zod through src/manifest/zod.ts alone, which `npm run build` bundles with just what it
// names (scripts/build-zod.js). An import of the package anywhere else would load all of it again
// (95 modules, its sixty locales among them) and nothing else would notice.
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const FACADE = "src/manifest/zod.ts";
/** an import or re-export from zod's package, or a dynamic import of it */
const FROM_ZOD = /(?:\bfrom\s*|\bimport\s*\(\s*)["']zod(?:\/[^"']*)?["']/;
/** one that loads nothing when the program runs */
const TYPE_ONLY = /^\s*(?:import|export)\s+type\b/;

async function typescriptSources(): Promise<string[]> {
  const entries = await readdir(join(ROOT, "src"), { recursive: true });
  return entries.filter((path) => path.endsWith(".ts")).map((path) => join("src", path));
}

/** the names the facade exports as values: the list of its `export { … } from "zod"` */
async function facadeValueNames(): Promise<string[]> {
  const text = await readFile(join(ROOT, FACADE), "utf8");
  const list = /^export \{([^}]*)\} from "zod";$/m.exec(text)?.[1];
  if (list === undefined) throw new Error(`${FACADE} has no value export list`);
  return list.split(",").map((name) => name.trim()).filter((name) => name !== "");
}

describe("zod, bundled to what vigil uses", () => {
  it("is imported from its package only by src/manifest/zod.ts (type-only imports aside)", async () => {
    const offenders: string[] = [];
    for (const path of await typescriptSources()) {
      if (path === FACADE) continue;
      const lines = (await readFile(join(ROOT, path), "utf8")).split("\n");
      lines.forEach((line, i) => {
        if (FROM_ZOD.test(line) && !TYPE_ONLY.test(line)) offenders.push(`${path}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it("is built into dist/manifest/zod.js as one module that imports nothing and exports what the facade names", async () => {
    const path = join(ROOT, "dist", "manifest", "zod.js");
    const built = await readFile(path, "utf8");
    // no import statement, no re-export from another module, no dynamic import
    expect(built).not.toMatch(/^\s*(?:import|export)\b[^;\n]*\bfrom\s*["']|^\s*import\s*["']|\bimport\s*\(\s*["']/m);
    const bundle = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    expect(Object.keys(bundle).sort()).toEqual((await facadeValueNames()).sort());
    // and it validates: a wrong type and an unknown key are both problems
    const z = bundle as unknown as typeof import("../../src/manifest/zod.js");
    const result = z.strictObject({ command: z.string() }).safeParse({ command: 1, comand: "x" });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.code).sort()).toEqual(["invalid_type", "unrecognized_keys"]);
  });
});
