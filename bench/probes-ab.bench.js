// `npm run bench -- probes-ab`: what exec probes cost the supervisor, this tree against another revision
// (BENCH_AB_BASE, default HEAD~1), both running at once: each supervises the same services, `sleep`s
// with a liveness probe `exec: true` every second, and the CPU each supervisor uses is read from /proc
// over the same windows. A probe is a command run to its end (run-bounded.ts), as are actions and alert
// commands: its spawn is most of what a probe costs the supervisor.
//
// The other revision is checked out into a temporary git worktree (it uses this tree's node_modules) and
// built there. Env: BENCH_AB_BASE, BENCH_AB_ROUNDS (6), BENCH_AB_WINDOW_S (10), BENCH_PROBES_SERVICES
// (20). Runs only when named: it builds a second tree.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { baseAndThisTree, cpuWindows, meanOf, removeBase } from "./ab-lib.js";
import { round, saveResult, table } from "./lib.js";
import { Tracker, readStatusFile, waitAllGone } from "./scale-lib.js";

const BASE = process.env.BENCH_AB_BASE ?? "HEAD~1";
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 6);
const WINDOW_S = Number(process.env.BENCH_AB_WINDOW_S ?? 10);
const SERVICES = Number(process.env.BENCH_PROBES_SERVICES ?? 20);

function writeManifest(file, stateDir) {
  let text = `version: 1\nstate_dir: ${JSON.stringify(stateDir)}\nservices:\n`;
  for (let i = 0; i < SERVICES; i++) {
    text += `  probed-${i + 1}:\n    command: sleep ${86_400 + i}\n    probes: { liveness: { exec: "true", interval: 1s, timeout: 5s } }\n`;
  }
  writeFileSync(file, text);
}

/** until status.json shows every service running (their pids tracked), at most a minute */
async function allRunning(stateDir, tracker) {
  const until = performance.now() + 60_000;
  while (performance.now() < until) {
    const services = readStatusFile(stateDir)?.services ?? [];
    for (const s of services) if (s.pid) tracker.add(s.pid);
    if (services.length === SERVICES && services.every((s) => s.state === "running")) return;
    await sleep(50);
  }
  throw new Error(`not every one of ${SERVICES} services running after a minute (${stateDir})`);
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-probes-ab-"));
  const tracker = new Tracker();
  const running = [];
  let trees = null;
  try {
    trees = baseAndThisTree(dir, BASE);
    for (const [i, tree] of trees.entries()) {
      const stateDir = join(dir, `state-${i}`);
      mkdirSync(stateDir);
      const manifest = join(dir, `supervisor-${i}.yaml`);
      writeManifest(manifest, stateDir);
      const proc = spawn(join(tree.root, "bin/vigil"), ["up", "-f", manifest], { stdio: "ignore" });
      tracker.add(proc.pid);
      running.push({ name: tree.name, proc, stateDir });
    }
    for (const r of running) await allRunning(r.stateDir, tracker);
    // past the first probes and the start's own work
    await sleep(5_000);

    const windows = await cpuWindows(running.map((r) => r.proc.pid), ROUNDS, WINDOW_S);
    const mean = (i) => meanOf(windows, i);
    const rows = [["window", ...running.map((r) => `${r.name}, % of a core`), "this / base"]];
    for (const [i, w] of windows.entries()) rows.push([String(i + 1), ...w.map((c) => c.toFixed(2)), (w[1] / w[0]).toFixed(2)]);
    rows.push(["mean", ...running.map((_, i) => mean(i).toFixed(2)), (mean(1) / mean(0)).toFixed(2)]);
    console.log(table(rows));
    // per probe run: SERVICES runs a second
    console.log(running.map((r, i) => `${r.name}: ${((mean(i) * 10) / SERVICES).toFixed(2)} ms of CPU a probe`).join("; "));
    saveResult("probes-ab", {
      base: BASE,
      services: SERVICES,
      probes_per_second: SERVICES,
      window_s: WINDOW_S,
      windows: windows.map((w) => w.map((c) => round(c, 2))),
      mean_percent: running.map((r, i) => ({ name: r.name, cpu_percent: round(mean(i), 2), cpu_ms_per_probe: round((mean(i) * 10) / SERVICES, 2) })),
    });
  } finally {
    const exits = running.map((r) => (r.proc.exitCode !== null || r.proc.signalCode !== null ? null : new Promise((resolve) => r.proc.once("exit", resolve))));
    for (const r of running) r.proc.kill("SIGTERM");
    await Promise.race([Promise.all(exits), sleep(30_000)]);
    tracker.killAll();
    await waitAllGone(tracker, 15_000);
    if (trees) removeBase(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
