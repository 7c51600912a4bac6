// npm run bench -- dashboard: the web dashboard with 1,000 services (beating children, as in the scale
// suite) in a real headless Chromium: the page's first render (navigation start → the list drawn with
// every instance's data, the `vigil:first-render` mark the page sets), how soon a child killed with
// SIGKILL shows as running again with its new pid (the default backoff, 200 ms; aim 2 s), and the
// supervisor's extra CPU while one page is open against none (its utime + stime from /proc over the same
// window each).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";
import { machine, round, saveResult, summary, table } from "./lib.js";
import { buildBeater, CLK_TCK, cpuTicks, startVigilUp, stopEverything, Tracker, waitAllRunning, writeManifest } from "./scale-lib.js";

const SERVICES = Number(process.env["VIGIL_BENCH_SERVICES"] ?? 1_000);
const RENDERS = 5;
const SETTLE_S = 15;
const WINDOW_S = Number(process.env["VIGIL_BENCH_WINDOW_S"] ?? 30);
const PAIRS = 3;
const TOKEN = "bench-token";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** CPU of `pid` in % of one core over `seconds` */
async function cpuOver(pid, seconds) {
  const t0 = performance.now();
  const ticks0 = cpuTicks(pid);
  await sleep(seconds * 1000);
  return (100 * (cpuTicks(pid) - ticks0)) / CLK_TCK / ((performance.now() - t0) / 1000);
}

async function firstRender(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    await page.goto(url);
    await page.waitForFunction(() => performance.getEntriesByName("vigil:first-render").length > 0, null, { timeout: 60_000 });
    return await page.evaluate(() => {
      const mark = performance.getEntriesByName("vigil:first-render")[0];
      const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
      const script = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/app.js"));
      return {
        ms: mark.startTime,
        // where the time goes: the script loaded, the snapshot arrived and parsed, the list drawn
        scriptMs: script ? script.responseEnd : null,
        snapshotMs: at("vigil:snapshot"),
        services: mark.detail?.services ?? null,
        rows: document.querySelectorAll(".list .row:not([hidden])").length,
      };
    });
  } finally {
    await page.close();
  }
}

const KILLS = 5;

/** SIGKILL to the child of `name` as the page shows it, and ms until the page shows it running with another pid */
async function killShown(page, name) {
  const row = page.locator(`.row:not([hidden])[data-name="${name}"]`);
  await row.locator(".c-state", { hasText: "running" }).waitFor({ timeout: 30_000 });
  const pid = Number(await row.locator(".c-pid").textContent());
  if (!(pid > 0)) throw new Error(`no pid shown for ${name}`);
  const t0 = performance.now();
  process.kill(pid, "SIGKILL");
  await page.waitForFunction(
    ([n, before]) => {
      const r = document.querySelector(`.row:not([hidden])[data-name="${n}"]`);
      const shown = Number(r?.querySelector(".c-pid")?.textContent);
      return shown > 0 && shown !== before && /running/.test(r?.querySelector(".c-state")?.textContent ?? "");
    },
    [name, pid],
    { timeout: 30_000, polling: "raf" },
  );
  return performance.now() - t0;
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-dashboard-"));
  const beater = buildBeater(dir);
  const port = await freePort();
  const stateDir = join(dir, "state");
  const manifest = join(dir, "supervisor.yaml");
  writeManifest(manifest, stateDir, beater, SERVICES, `http: { listen: "127.0.0.1:${port}", token_env: VIGIL_BENCH_TOKEN }\n`);
  process.env["VIGIL_BENCH_TOKEN"] = TOKEN;
  const chromiumPath = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  const tracker = new Tracker();
  let vigil = null;
  let browser = null;
  try {
    vigil = startVigilUp(manifest);
    tracker.add(vigil.proc.pid);
    await waitAllRunning(stateDir, SERVICES, vigil.t0, tracker, 180_000);
    const pid = vigil.proc.pid;
    await sleep(SETTLE_S * 1000);
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ARGS });
    const url = `http://127.0.0.1:${port}/?t=${TOKEN}`;
    const renders = [];
    for (let i = 0; i < RENDERS; i++) renders.push(await firstRender(browser, url));
    const wrong = renders.find((r) => r.services !== SERVICES);
    if (wrong) throw new Error(`the page rendered ${wrong.services} services, not ${SERVICES}`);

    // a child killed, seen back: the list filtered to it, so that its row is drawn
    const killPage = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await killPage.goto(url);
    await killPage.waitForFunction(() => performance.getEntriesByName("vigil:first-render").length > 0, null, { timeout: 60_000 });
    const kills = [];
    // a different service each time: each one's first restart, after the default backoff's first 200 ms
    for (let i = 1; i <= KILLS; i++) {
      const victim = `beater-${String(i).padStart(4, "0")}`;
      await killPage.locator("#filter").fill(victim);
      kills.push(await killShown(killPage, victim));
    }
    await killPage.close();

    // windows without a page and with one, in turn, so that a change of the machine's load over the
    // run falls on both alike; the extra is the median of each page window less the mean of its neighbours
    await sleep(5_000);
    const bareWindows = [await cpuOver(pid, WINDOW_S)];
    const pageWindows = [];
    for (let i = 0; i < PAIRS; i++) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(url);
      await page.waitForFunction(() => performance.getEntriesByName("vigil:first-render").length > 0, null, { timeout: 60_000 });
      await sleep(3_000);
      pageWindows.push(await cpuOver(pid, WINDOW_S));
      await page.close();
      await sleep(3_000);
      bareWindows.push(await cpuOver(pid, WINDOW_S));
    }
    const extras = pageWindows.map((p, i) => p - ((bareWindows[i] ?? 0) + (bareWindows[i + 1] ?? 0)) / 2);
    const extra = summary(extras).median;

    const ms = summary(renders.map((r) => r.ms));
    const result = {
      services: SERVICES,
      beater: beater.kind,
      chromium: execFileSync(chromiumPath, ["--version"], { encoding: "utf8" }).trim(),
      first_render_ms: { median: round(ms.median, 1), min: round(ms.min, 1), max: round(ms.max, 1), runs: renders.map((r) => round(r.ms, 1)) },
      script_loaded_ms: renders.map((r) => round(r.scriptMs ?? NaN, 1)),
      snapshot_received_ms: renders.map((r) => round(r.snapshotMs ?? NaN, 1)),
      rows_drawn: renders[0]?.rows ?? null,
      kill_to_running_shown_ms: kills.map((k) => round(k, 1)),
      cpu_window_s: WINDOW_S,
      supervisor_cpu_percent: { without_page: bareWindows.map((c) => round(c, 2)), with_one_page: pageWindows.map((c) => round(c, 2)) },
      extra_cpu_percent_of_a_core: round(extra, 2),
      extra_per_pair: extras.map((c) => round(c, 2)),
      load_average: loadavg().map((l) => round(l, 2)),
      aims: { first_render_ms: 1_000, extra_cpu_percent: 1, kill_to_running_shown_ms: 2_000 },
    };
    console.log(
      table([
        ["measure", "value"],
        [`first render, ${SERVICES} services (median of ${RENDERS})`, `${result.first_render_ms.median} ms (min ${result.first_render_ms.min}, max ${result.first_render_ms.max})`],
        [`SIGKILL → running again with a new pid, on the page (${KILLS} services)`, `${kills.map((k) => round(k, 0)).join(", ")} ms (aim ≤ 2,000)`],
        ["script loaded / snapshot in (median)", `${round(summary(renders.map((r) => r.scriptMs ?? NaN)).median, 1)} / ${round(summary(renders.map((r) => r.snapshotMs ?? NaN)).median, 1)} ms`],
        [`supervisor CPU, no page (${WINDOW_S} s windows)`, `${bareWindows.map((c) => round(c, 2)).join(", ")} % of a core`],
        ["supervisor CPU, one page open", `${pageWindows.map((c) => round(c, 2)).join(", ")} % of a core`],
        ["extra CPU for the page (median)", `${result.extra_cpu_percent_of_a_core} % of a core (per pair ${result.extra_per_pair.join(", ")}; aim ≤ 1 %)`],
        ["load average at the end", result.load_average.join(" ")],
      ]),
    );
    console.log(`machine: ${JSON.stringify(machine())}`);
    console.log(`results: ${saveResult("dashboard", result)}`);
  } finally {
    await browser?.close().catch(() => undefined);
    const stopped = await stopEverything(vigil, tracker, beater.exe);
    if (stopped.leftBehind > 0) console.error(`bench: ${stopped.leftBehind} processes were left behind and killed`);
    rmSync(dir, { recursive: true, force: true });
  }
}
