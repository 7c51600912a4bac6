// Restart latency: child exit -> replacement spawned (backoff 0), next to the raw spawn-and-exit time
// of the same command measured in the same run.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseManifest } from "../dist/manifest/load.js";
import { Stack } from "../dist/runtime/stack.js";
import { silentLogger } from "../dist/runtime/outputs/logger.js";
import { round, saveResult, summary, table } from "./lib.js";

const COMMAND = "true";
const RESTARTS = Number(process.env.BENCH_RESTARTS ?? 200);

/** spawn -> 'exit' event of the command, with the same stdio a supervised child gets */
async function rawSpawnAndExit(n) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise((resolve, reject) => {
      const c = spawn(COMMAND, [], { stdio: ["ignore", "pipe", "pipe"], detached: true });
      c.on("error", reject);
      c.on("exit", resolve);
    });
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function supervisedRestarts(n) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
  const manifest = parseManifest(
    `version: 1
services:
  flapper:
    command: "${COMMAND}"
    restart:
      policy: always
      backoff: { initial: 0, factor: 1, jitter: 0 }
      max_restarts: 1000000
      window: 1s
`,
    join(dir, "supervisor.yaml"),
  );
  const stack = await Stack.open(manifest, { logger: silentLogger, watch: false });
  const latencies = []; // exit noticed -> replacement spawned
  const cycles = []; // spawn -> next spawn: what a crashing child costs end to end
  let exitAt = null;
  let lastSpawn = null;
  let count = 0;
  // the exit is noticed when the process adapter reports it to the loop
  const post = stack.loop.post.bind(stack.loop);
  stack.loop.post = (input) => {
    if (input.type === "ChildExited") exitAt = performance.now();
    post(input);
  };
  const done = new Promise((resolve) => {
    stack.bus.subscribe((event) => {
      if (event.kind !== "spawned") return;
      const now = performance.now();
      if (exitAt !== null) latencies.push(now - exitAt);
      if (lastSpawn !== null) cycles.push(now - lastSpawn);
      lastSpawn = now;
      exitAt = null;
      if (++count > n) resolve();
    });
  });
  await stack.start();
  await done;
  await stack.shutdown();
  rmSync(dir, { recursive: true, force: true });
  return { latencies, cycles };
}

export async function run() {
  // warm up both paths so that neither pays for loading code
  await rawSpawnAndExit(20);
  await supervisedRestarts(20);
  const raw = summary(await rawSpawnAndExit(RESTARTS));
  const sup = await supervisedRestarts(RESTARTS);
  const latency = summary(sup.latencies);
  const cycle = summary(sup.cycles);
  const ratio = cycle.median / raw.median;
  const result = {
    command: COMMAND,
    restarts: RESTARTS,
    raw_spawn_and_exit_ms: mapRound(raw),
    restart_cycle_ms: mapRound(cycle),
    exit_to_respawn_ms: mapRound(latency),
    ratio_cycle_to_raw_median: round(ratio, 2),
    goal: "median restart cycle <= 1.5 x raw spawn-and-exit",
    pass: ratio <= 1.5,
  };
  const path = saveResult("restart", result);
  console.log(
    table([
      ["restart (n=" + RESTARTS + ", `" + COMMAND + "`)", "median ms", "p99 ms"],
      ["raw spawn -> exit", round(raw.median), round(raw.p99)],
      ["vigil: spawn -> exit -> respawn", round(cycle.median), round(cycle.p99)],
      ["vigil: exit noticed -> respawned", round(latency.median), round(latency.p99)],
    ]),
  );
  console.log(`ratio (median cycle / raw): ${round(ratio, 2)}  goal <= 1.5  ${ratio <= 1.5 ? "PASS" : "MISS"}  -> ${path}`);
  return result;
}

function mapRound(s) {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === "n" ? v : round(v)]));
}
