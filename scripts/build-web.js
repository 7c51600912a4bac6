// Builds the dashboard into dist/web: web/src/main.ts bundled with uPlot by esbuild (no CDN: the page
// works offline), beside index.html, style.css and uPlot's stylesheet. Run by `npm run build`.
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const out = join(root, "dist", "web");
await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(root, "web", "src", "main.ts")],
  bundle: true,
  format: "esm",
  target: ["chrome110", "firefox110", "safari16"],
  minify: process.env["VIGIL_WEB_MINIFY"] !== "0",
  sourcemap: true,
  outfile: join(out, "app.js"),
  legalComments: "linked",
  logLevel: "warning",
});
const uplotDir = dirname(createRequire(import.meta.url).resolve("uplot/package.json"));
await Promise.all([
  copyFile(join(root, "web", "index.html"), join(out, "index.html")),
  copyFile(join(root, "web", "style.css"), join(out, "style.css")),
  copyFile(join(uplotDir, "dist", "uPlot.min.css"), join(out, "uPlot.min.css")),
]);
