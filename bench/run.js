// npm run bench [-- SUITE...]: runs bench/SUITE.bench.js for each named suite (all when none is named).
// Each suite module exports `run()`, prints its table and writes bench/results/SUITE.json.
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const known = readdirSync(here)
  .filter((f) => f.endsWith(".bench.js"))
  .map((f) => f.slice(0, -".bench.js".length))
  .sort();
// suites that need minutes or leave the machine busy run only when named
const onlyWhenNamed = new Set(["soak", "beats-ab", "probes-ab"]);

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = wanted.length > 0 ? wanted : known.filter((n) => !onlyWhenNamed.has(n));
for (const name of names) {
  if (!known.includes(name)) {
    console.error(`bench: unknown suite ${name} (known: ${known.join(", ")})`);
    process.exit(2);
  }
  console.log(`\n== ${name}`);
  const suite = await import(`./${name}.bench.js`);
  await suite.run();
}
