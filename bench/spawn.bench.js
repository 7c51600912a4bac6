// What one spawn costs the supervisor, by how it spawns: vigil's spawnChild (dist/) through the native
// spawn (native/spawn.c: posix_spawn, a pidfd for the exit) against the same function through
// node:child_process (the portable backend's spawn, which forks), each in a process of its own that
// holds a supervisor-sized heap (BENCH_SPAWN_HEAP_MIB, 40 MiB of live objects) and runs with `vigil up`'s
// V8 settings. Each spawns /bin/true BENCH_SPAWN_N times (400) one after another, each after the last one's
// exit, and reports the wall time and the CPU (user, system) a spawn, and the minor
// faults a spawn (getrusage). Rounds alternate the two (BENCH_SPAWN_ROUNDS, 3).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT, round, saveResult, table } from "./lib.js";

const N = Number(process.env.BENCH_SPAWN_N ?? 400);
const ROUNDS = Number(process.env.BENCH_SPAWN_ROUNDS ?? 3);
const HEAP_MIB = Number(process.env.BENCH_SPAWN_HEAP_MIB ?? 40);

/** the measuring process: argv[1] the number of spawns, argv[2] the heap to hold, in MiB */
const WORKER = `
const { spawnChild } = await import(${JSON.stringify(join(ROOT, "dist", "runtime", "process", "child.js"))});
const { nativeSpawn } = await import(${JSON.stringify(join(ROOT, "dist", "runtime", "process", "native-spawn.js"))});
const [n, heapMib] = process.argv.slice(1).map(Number);
const ballast = [];
for (let i = 0; i < heapMib * 1024 * 1024 / 80; i++) ballast.push({ i, s: "x" + i });
const env = { PATH: "/usr/bin:/bin" };
const one = () => new Promise((resolve) => {
  spawnChild({ argv: ["/bin/true"], cwd: "/" }, env, false, {
    onLine() {}, onExit: resolve, onSpawnError: (m) => { throw new Error(m); },
  });
});
for (let i = 0; i < 20; i++) await one();
const r0 = process.resourceUsage();
const t0 = performance.now();
for (let i = 0; i < n; i++) await one();
const ms = performance.now() - t0;
const r1 = process.resourceUsage();
console.log(JSON.stringify({
  native: nativeSpawn() !== null,
  wall_ms: ms / n,
  user_ms: (r1.userCPUTime - r0.userCPUTime) / 1000 / n,
  system_ms: (r1.systemCPUTime - r0.systemCPUTime) / 1000 / n,
  minor_faults: (r1.minorPageFault - r0.minorPageFault) / n,
  ballast: ballast.length,
}));
`;

function measure(portable) {
  const env = { ...process.env, VIGIL_PROCESS_BACKEND: portable ? "portable" : "proc" };
  const run = spawnSync(process.execPath, ["--optimize-for-size", "--max-semi-space-size=1", "--input-type=module", "-e", WORKER, String(N), String(HEAP_MIB)], { env, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`spawn bench worker failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1));
}

export async function run() {
  const by = { native: [], fork: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const native = measure(false);
    if (!native.native) throw new Error("the native spawn is not built (npm run build): nothing to compare");
    by.native.push(native);
    by.fork.push(measure(true));
  }
  const median = (list, key) => round([...list.map((x) => x[key])].sort((a, b) => a - b)[Math.floor(list.length / 2)], 3);
  const rows = [["figure (median of rounds, per spawn)", "native spawn", "node:child_process", "native / child_process"]];
  for (const [key, label] of [["wall_ms", "spawn to exit, ms"], ["user_ms", "user CPU, ms"], ["system_ms", "system CPU, ms"], ["minor_faults", "minor faults"]]) {
    const a = median(by.native, key);
    const b = median(by.fork, key);
    rows.push([label, a, b, round(a / b, 2)]);
  }
  console.log(table(rows));
  saveResult("spawn", { n: N, rounds: ROUNDS, heap_mib: HEAP_MIB, native: by.native, child_process: by.fork });
}
