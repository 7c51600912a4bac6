// npm run bench [-- SUITE...]: runs the named suites (all when none is named).
const SUITES = {
  restart: () => import("./restart.js"),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = wanted.length > 0 ? wanted : Object.keys(SUITES);
for (const name of names) {
  const load = SUITES[name];
  if (!load) {
    console.error(`bench: unknown suite ${name} (known: ${Object.keys(SUITES).join(", ")})`);
    process.exit(2);
  }
  console.log(`\n== ${name}`);
  await (await load()).run();
}
