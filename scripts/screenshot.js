// npm run screenshot: the README's picture of the dashboard, taken from a real demo stack in a real
// headless Chromium (the system's `chromium`): services beating, working, crash-looping, in backoff,
// a replicated worker, coloured output, and a rejected edit of the manifest. Writes docs/dashboard.png
// (or the path given as the first argument).
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";

const ROOT = resolve(import.meta.dirname, "..");
const OUT = resolve(process.argv[2] ?? join(ROOT, "docs", "dashboard.png"));
const TOKEN = "demo-token";

const files = {
  "api.sh": `#!/bin/sh
n=0
while :; do
  n=$((n + 1))
  printf '\\033[32mGET\\033[0m /orders/%d \\033[2m200\\033[0m %dms\\n' "$n" $((n % 40 + 3))
  [ $((n % 7)) -eq 0 ] && printf '\\033[33mslow query\\033[0m orders.find took %dms\\n' $((n * 3 % 900)) >&2
  vigil beat --data "{\\"requests\\":$n}"
  sleep 0.4
done
`,
  "worker.sh": `#!/bin/sh
while :; do
  i=0; while [ $i -lt $((20000 + VIGIL_INSTANCE * 15000)) ]; do i=$((i + 1)); done
  echo "job done by worker $VIGIL_INSTANCE"
  vigil beat
  sleep 1
done
`,
  "db.sh": `#!/bin/sh
vigil beat --ready
while :; do echo "checkpoint complete"; vigil beat; sleep 1; done
`,
  "mailer.sh": `#!/bin/sh
echo "connecting to smtp.example:25"
sleep 3
echo "smtp.example:25: connection refused" >&2
exit 1
`,
};

function manifest(port) {
  return `version: 1
http: { listen: "127.0.0.1:${port}", token_env: VIGIL_DEMO_TOKEN }
resources: { interval: 1s }
services:
  db:
    command: ./db.sh
    heartbeat: { via: socket, interval: 3s, misses: 3 }
  api:
    command: ./api.sh
    depends_on: { db: healthy }
    heartbeat: { via: socket, interval: 2s, misses: 3 }
    probes:
      readiness: { exec: "true", interval: 2s }
  worker:
    command: ./worker.sh
    replicas: 3
    depends_on: [api]
    heartbeat: { via: socket, interval: 3s, misses: 3 }
  mailer:
    command: ./mailer.sh
    depends_on: [api]
    restart: { backoff: { initial: 6s, factor: 1.5, jitter: 0 } }
  importer:
    command: sh -c 'echo "cannot open /data/import.csv" >&2; exit 2'
    restart: { max_restarts: 2, window: 1m, backoff: { initial: 100ms } }
  nightly:
    command: sh -c 'echo backup done'
    schedule: { cron: "0 3 * * *" }
`;
}

function freePort() {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "vigil-demo-"));
const port = await freePort();
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o755 });
writeFileSync(join(dir, "supervisor.yaml"), manifest(port));
const up = spawn(process.execPath, [join(ROOT, "dist/cli/main.js"), "up"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, VIGIL_DEMO_TOKEN: TOKEN } });
const exited = new Promise((done) => up.once("exit", done));
let browser = null;
try {
  await sleep(9_000);
  // a bad edit: the running configuration stays, and the page shows where the problem is
  const text = readFileSync(join(dir, "supervisor.yaml"), "utf8");
  writeFileSync(join(dir, "supervisor.yaml"), text.replace("    replicas: 3\n", "    replicas: 3\n    restrat: { policy: always }\n"));
  await sleep(2_000);
  const executablePath = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1050 }, colorScheme: "light" });
  await page.goto(`http://127.0.0.1:${port}/?t=${TOKEN}`);
  await page.locator("body[data-ready]").waitFor();
  await page.locator('.row[data-name="api"]').click();
  await page.locator("#log-lines .log-line").nth(10).waitFor();
  await sleep(4_000);
  mkdirSync(dirname(OUT), { recursive: true });
  await page.screenshot({ path: OUT, fullPage: true });
  console.log(`screenshot: ${OUT}`);
} finally {
  await browser?.close();
  up.kill("SIGTERM");
  await exited;
  rmSync(dir, { recursive: true, force: true });
}
