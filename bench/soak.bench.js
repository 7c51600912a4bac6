// Soak: the real `vigil up` with 1,000 beating services for 10 minutes (BENCH_SOAK_MINUTES), measured from
// outside every 10 s: CPU (utime+stime from /proc/PID/stat), VmRSS, and the beats it counted. Growth is
// judged after the first 3 minutes, once every per-service history (100 beats, 60 resource samples at
// 2 s) is full: the least-squares slope of VmRSS over the rest of the run. Not run by `npm run bench`
// without a name (bench/run.js), it keeps two cores busy for the whole run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { round, saveResult, table } from "./lib.js";
import { CLK_TCK, Tracker, buildBeater, cpuTicks, procMemory, startVigilUp, stopEverything, waitAllRunning, writeManifest } from "./scale-lib.js";

const SERVICES = Number(process.env.BENCH_SCALE_SERVICES ?? 1000);
const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
const SAMPLE_S = 10;
const WARM_S = Math.min(180, (MINUTES * 60) / 3);
const NODE_ARGS = (process.env.BENCH_SCALE_NODE_ARGS ?? "").split(" ").filter(Boolean);
const GOAL_CPU = 3;
/** 100 MB, as the issue says (95.4 MiB) */
const GOAL_RSS_MB = 100;
const mb = (mib) => round((mib * 1024 * 1024) / 1e6, 1);
/** growth over the judged span that still counts as flat: allocator noise */
const GROWTH_TOLERANCE_MIB = 5;

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-soak-"));
  const tracker = new Tracker();
  let vigil = null;
  let beater = null;
  try {
    beater = buildBeater(dir);
    const stateDir = join(dir, "state");
    const manifest = join(dir, "supervisor.yaml");
    writeManifest(manifest, stateDir, beater, SERVICES);
    console.log(`beater: ${beater.kind}; ${SERVICES} services; ${MINUTES} minutes`);
    vigil = startVigilUp(manifest, NODE_ARGS);
    tracker.add(vigil.proc.pid);
    const start = await waitAllRunning(stateDir, SERVICES, vigil.t0, tracker, 120_000);
    const pid = vigil.proc.pid;
    const { request } = await import("../dist/control/client.js");
    const beats = async () => (await request(stateDir, { cmd: "status" })).services.reduce((n, s) => n + s.beats, 0);
    const t0 = performance.now();
    const samples = [];
    let last = { atS: 0, ticks: cpuTicks(pid), beats: await beats() };
    while (performance.now() - t0 < MINUTES * 60_000) {
      await sleep(SAMPLE_S * 1000);
      const atS = (performance.now() - t0) / 1000;
      const ticks = cpuTicks(pid);
      const mem = procMemory(pid);
      const b = await beats();
      samples.push({
        at_s: round(atS, 1),
        cpu_percent: round((100 * (ticks - last.ticks)) / CLK_TCK / (atS - last.atS), 2),
        rss_mib: round(mem.VmRSS / 1024, 1),
        beats_per_s: round((b - last.beats) / (atS - last.atS), 0),
      });
      last = { atS, ticks, beats: b };
      if (!Number.isFinite(ticks)) throw new Error("vigil up is gone");
    }
    const judged = samples.filter((s) => s.at_s >= WARM_S);
    const slope = slopePerMinute(judged.map((s) => [s.at_s / 60, s.rss_mib]));
    const growthMib = slope * ((judged.at(-1).at_s - judged[0].at_s) / 60);
    const cpuAll = samples.reduce((n, s) => n + s.cpu_percent, 0) / samples.length;
    const hwm = procMemory(pid).VmHWM;
    const stop = await stopEverything(vigil, tracker, beater.exe);
    vigil = null;
    const result = {
      services: SERVICES,
      beater: beater.kind,
      minutes: MINUTES,
      command: "npm run bench -- soak",
      node_args: NODE_ARGS,
      start_ms: round(start.runningMs, 0),
      cpu_percent_mean: round(cpuAll, 2),
      rss_mib_min: Math.min(...samples.map((s) => s.rss_mib)),
      rss_mib_max: Math.max(...samples.map((s) => s.rss_mib)),
      vm_hwm_mib: round(hwm / 1024, 1),
      rss_growth_after_warmup_mib: round(growthMib, 1),
      rss_slope_mib_per_min: round(slope, 3),
      warmup_s: WARM_S,
      samples,
      left_behind: stop.leftBehind,
      goals: {
        cpu: { goal: `<= ${GOAL_CPU} %`, pass: cpuAll <= GOAL_CPU },
        rss: { goal: `<= ${GOAL_RSS_MB} MB`, pass: mb(Math.max(...samples.map((s) => s.rss_mib))) <= GOAL_RSS_MB },
        growth: { goal: `< ${GROWTH_TOLERANCE_MIB} MiB after ${WARM_S} s`, pass: growthMib < GROWTH_TOLERANCE_MIB },
      },
    };
    const path = saveResult("soak", result);
    console.log(
      table([
        ["soak figure", "measured", "goal", "verdict"],
        ["CPU, mean of 10 s slices", `${result.cpu_percent_mean} %`, `<= ${GOAL_CPU} %`, verdict(result.goals.cpu.pass)],
        ["VmRSS min / max", `${result.rss_mib_min} / ${result.rss_mib_max} MiB (max ${mb(result.rss_mib_max)} MB)`, `<= ${GOAL_RSS_MB} MB`, verdict(result.goals.rss.pass)],
        [`VmRSS growth after ${WARM_S} s`, `${result.rss_growth_after_warmup_mib} MiB`, `< ${GROWTH_TOLERANCE_MIB} MiB`, verdict(result.goals.growth.pass)],
        ["VmHWM", `${result.vm_hwm_mib} MiB`, "", "-"],
      ]),
    );
    console.log(`-> ${path}`);
    return result;
  } catch (err) {
    throw new Error(`${err.message}\nvigil up stderr (tail):\n${vigil?.stderrTail() ?? ""}`, { cause: err });
  } finally {
    if (vigil) await stopEverything(vigil, tracker, beater?.exe, 30_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

const verdict = (pass) => (pass ? "PASS" : "MISS");

/** least-squares slope of y over x */
function slopePerMinute(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
