// `npm run bench -- beats-ab`: the heartbeat path of this tree against another revision's, both running
// at once beside the bare server (the peers table's floor), each with its own 1,000 beaters
// (bench/beater.c, once a second). On a shared machine the same supervisor's CPU moves by a quarter
// from one minute to the next at the same count of wake-ups; measured at the same moments, the three
// share whatever the machine does, and each window gives one comparison.
//
// The other revision (BENCH_AB_BASE, default HEAD~1) is checked out into a temporary git worktree, which
// uses this tree's node_modules, and built there. Env: BENCH_AB_BASE, BENCH_AB_ROUNDS (6), BENCH_AB_WINDOW_S
// (10), BENCH_AB_SERVICES (1000). Runs only when named: it builds a second tree and needs a few minutes.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { baseAndThisTree, cpuWindows, meanOf, removeBase } from "./ab-lib.js";
import { round, saveResult, table } from "./lib.js";
import { Tracker, buildBeater, waitAllGone, waitAllRunning, writeManifest } from "./scale-lib.js";

const BASE = process.env.BENCH_AB_BASE ?? "HEAD~1";
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 6);
const WINDOW_S = Number(process.env.BENCH_AB_WINDOW_S ?? 10);
const SERVICES = Number(process.env.BENCH_AB_SERVICES ?? 1000);
const PEERS = fileURLToPath(new URL("./peers.bench.js", import.meta.url));

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-beats-ab-"));
  const tracker = new Tracker();
  const running = [];
  let trees = null;
  let stopping = false;
  try {
    const beater = buildBeater(dir);
    trees = baseAndThisTree(dir, BASE);
    for (const [i, tree] of trees.entries()) {
      const stateDir = join(dir, `state-${i}`);
      mkdirSync(stateDir);
      const manifest = join(dir, `supervisor-${i}.yaml`);
      writeManifest(manifest, stateDir, beater, SERVICES);
      const proc = spawn(join(tree.root, "bin/vigil"), ["up", "-f", manifest], { stdio: "ignore" });
      tracker.add(proc.pid);
      running.push({ name: tree.name, proc, stateDir });
      proc.once("exit", (code, signal) => (running.length === trees.length && !stopping ? console.error(`${tree.name}: vigil up ended early (${code ?? signal})`) : undefined));
    }
    for (const r of running) await waitAllRunning(r.stateDir, SERVICES, performance.now(), tracker, 180_000);
    const floor = spawn(process.execPath, [PEERS, "--bare-server", join(dir, "floor.sock"), beater.argv.join("\0"), String(SERVICES)], { stdio: ["ignore", "pipe", "inherit"] });
    tracker.add(floor.pid);
    running.push({ name: "bare server", proc: floor });
    let said = "";
    floor.stdout.on("data", (d) => (said += d));
    while (!said.includes("\n")) await sleep(50);
    // the beaters' first connections and the supervisors' start are behind them
    await sleep(5_000);

    const windows = await cpuWindows(running.map((r) => r.proc.pid), ROUNDS, WINDOW_S);
    const mean = (i) => meanOf(windows, i);
    const rows = [["window", ...running.map((r) => `${r.name}, % of a core`), "this / base", "this / bare server"]];
    for (const [i, w] of windows.entries()) rows.push([String(i + 1), ...w.map((c) => c.toFixed(2)), (w[1] / w[0]).toFixed(2), (w[1] / w[2]).toFixed(2)]);
    rows.push(["mean", ...running.map((_, i) => mean(i).toFixed(2)), (mean(1) / mean(0)).toFixed(2), (mean(1) / mean(2)).toFixed(2)]);
    console.log(table(rows));
    const lower = windows.filter((w) => w[1] < w[0]).length;
    console.log(`this tree lower than the base in ${lower} of ${windows.length} windows`);
    saveResult("beats-ab", {
      base: BASE,
      services: SERVICES,
      window_s: WINDOW_S,
      windows: windows.map((w) => w.map((c) => round(c, 2))),
      mean_percent: running.map((r, i) => ({ name: r.name, cpu_percent: round(mean(i), 2) })),
    });
  } finally {
    stopping = true;
    // each supervisor stops its 1,000 children itself; what is left after that is killed by pid
    const exits = running.map((r) => (r.proc.exitCode !== null || r.proc.signalCode !== null ? null : new Promise((resolve) => r.proc.once("exit", resolve))));
    for (const r of running) r.proc.kill("SIGTERM");
    await Promise.race([Promise.all(exits), sleep(30_000)]);
    tracker.addByExe(join(dir, "beater"));
    tracker.killAll();
    await waitAllGone(tracker, 15_000);
    if (trees) removeBase(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
