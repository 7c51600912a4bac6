// Bundles src/manifest/zod.ts, the part of zod vigil uses, into dist/manifest/zod.js, over what tsc wrote
// there (a re-export of the whole package). Run by `npm run build`, after tsc. zod declares itself free
// of side effects, so what vigil never names (its locales but English, its JSON Schema reader) is left
// out: a supervisor loads one module of zod instead of ninety-five.
import { build } from "esbuild";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
await build({
  entryPoints: [join(root, "src", "manifest", "zod.ts")],
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outfile: join(root, "dist", "manifest", "zod.js"),
  sourcemap: true,
  // zod's code carries no notice of its own; its licence asks for one in every copy
  banner: { js: "// Parts of zod (https://zod.dev), MIT License, Copyright (c) 2025 Colin McDonnell; see node_modules/zod/LICENSE." },
  logLevel: "warning",
});
