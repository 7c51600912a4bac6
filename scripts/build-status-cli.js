// Bundles src/cli/status-entry.ts (as compiled into dist/cli) into dist/cli/status.cjs, one CommonJS file
// that bin/vigil runs for `vigil status` (see status-entry.ts). Run by `npm run build`, after tsc.
import { build } from "esbuild";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
await build({
  entryPoints: [join(root, "dist", "cli", "status-entry.js")],
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  outfile: join(root, "dist", "cli", "status.cjs"),
  // loaded where they are needed, from the package as installed: the YAML parser (only for a state_dir
  // the quick reading cannot be sure of), commander (only to tell its errors), and main.js
  external: ["yaml", "commander"],
  // import.meta.url in a CommonJS file: the bundle's own address
  define: { "import.meta.url": "__vigilBundleUrl" },
  banner: { js: '"use strict";\nconst __vigilBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
});
