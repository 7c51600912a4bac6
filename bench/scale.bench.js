// Scale: 1,000 children on two cores, measured against the goals of the issue.
//
// Part 1, from outside: the real CLI (`node dist/cli/main.js up -f supervisor.yaml`) as its own process,
// with 1,000 services each running a tiny beater (bench/beater.c) that beats once a second over the
// socket. Start time (spawn of `vigil up` → status.json shows all running; the median of 3 starts),
// steady-state CPU (/proc/PID/stat utime+stime over a window) and RSS (VmRSS, VmHWM), `vigil status
// --json` latency (the CLI spawned and timed, next to `node -e 0` and the raw control-socket round
// trip), shutdown.
//
// Floors, each in a node process of its own: a bare node server that takes the same 1,000 beaters'
// lines and does nothing else (CPU), node spawning the 1,000 beaters in one loop (start), the RSS of
// an idle node without and with vigil's modules. What no Node supervisor can go below on this machine.
//
// Part 2, in a node process of its own: the same stack run by the library (`StackRuntime`, what `vigil
// up` runs, with the heartbeat socket, status.json, the resource sampler and the journal) with 1,000
// beaters, for the figures of a few milliseconds that only the supervisor's own events can time:
// restart latency of a flapping `true` next to raw spawns of `true` in the same process and run, exit
// noticed → state updated, missed heartbeat deadline → action.
//
// BENCH_SCALE_SERVICES (1000), BENCH_SCALE_STEADY_S (60: the CPU window), BENCH_SCALE_START_RUNS (3),
// BENCH_SCALE_NODE_ARGS (node options of the supervisor in part 1, e.g. "--cpu-prof --cpu-prof-dir=DIR"),
// BENCH_SCALE_PARTS ("cli,floor,lib"), BENCH_SCALE_RESULT (the results file's name, "scale").
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ROOT, round, saveResult, summary, table } from "./lib.js";
import {
  BIN, CLK_TCK, Tracker, buildBeater, cpuTicks, procMemory, serviceName, startVigilUp, stopEverything,
  waitAllRunning, writeManifest,
} from "./scale-lib.js";

const SERVICES = Number(process.env.BENCH_SCALE_SERVICES ?? 1000);
const STEADY_S = Number(process.env.BENCH_SCALE_STEADY_S ?? 60);
/** after all beat: let start-up work (first sweeps, status rewrites, JIT) pass before the CPU window */
const SETTLE_S = 10;
/** `vigil up` is started this many times; the start figure is the median */
const START_RUNS = Number(process.env.BENCH_SCALE_START_RUNS ?? 3);
const NODE_ARGS = (process.env.BENCH_SCALE_NODE_ARGS ?? "").split(" ").filter(Boolean);
// node options of the library part (part 2), e.g. "--cpu-prof --cpu-prof-dir=DIR"
const LIB_NODE_ARGS = (process.env.BENCH_SCALE_LIB_NODE_ARGS ?? "").split(" ").filter(Boolean);
const PARTS = new Set((process.env.BENCH_SCALE_PARTS ?? "cli,floor,lib").split(","));
const RESTARTS = 200;
/** each killed or stopped once: services 1, 6, 11… are killed, 3, 8, 13… and 5, 10, 15… stopped */
const KILLS = Math.min(200, Math.floor(SERVICES / 5));
const STOPS = Math.min(200, Math.floor(SERVICES / 5));
const MISSES = 3;
const INTERVAL_MS = 2000;

const GOALS = {
  start_ms: 3000,
  cpu_percent: 3,
  /** 100 MB, as the issue says: 95.4 MiB */
  rss_mb: 100,
  restart_ratio: 1.3,
  exit_to_state_p99_ms: 2,
  deadline_to_action_p99_ms: 5,
  status_cli_ms: 100,
};

// ---------------------------------------------------------------- part 1: the CLI from outside

async function cliPart(dir, beater) {
  const stateDir = join(dir, "cli-state");
  const manifest = join(dir, "cli.yaml");
  writeManifest(manifest, stateDir, beater, SERVICES);
  const tracker = new Tracker();
  let vigil = null;
  try {
    const loadBefore = (await import("node:os")).loadavg()[0];
    // start-up times vary by some hundreds of ms from run to run here: the first runs only start and stop
    const starts = [];
    for (let i = 0; i < START_RUNS; i++) {
      vigil = startVigilUp(manifest, NODE_ARGS);
      tracker.add(vigil.proc.pid);
      starts.push(await waitAllRunning(stateDir, SERVICES, vigil.t0, tracker, 120_000));
      if (i === START_RUNS - 1) break;
      const stopped = await stopEverything(vigil, tracker, beater.exe);
      vigil = null;
      if (stopped.leftBehind > 0) throw new Error(`${stopped.leftBehind} processes left behind by vigil up`);
    }
    const start = { runningMs: median(starts.map((s) => s.runningMs)), beatingMs: median(starts.map((s) => s.beatingMs)) };
    const pid = vigil.proc.pid;
    const hwmAfterStart = procMemory(pid).VmHWM;
    await sleep(SETTLE_S * 1000);

    const { request } = await import("../dist/control/client.js");
    const beats = async () => (await request(stateDir, { cmd: "status" })).services.reduce((n, s) => n + s.beats, 0);
    const beats0 = await beats();
    const t0 = performance.now();
    const ticks0 = cpuTicks(pid);
    const rss = [];
    const perSlice = [];
    let lastTicks = ticks0;
    let lastAt = t0;
    while (performance.now() - t0 < STEADY_S * 1000) {
      await sleep(Math.min(5000, STEADY_S * 1000 - (performance.now() - t0)));
      const now = performance.now();
      const ticks = cpuTicks(pid);
      perSlice.push((100 * (ticks - lastTicks)) / CLK_TCK / ((now - lastAt) / 1000));
      lastTicks = ticks;
      lastAt = now;
      rss.push(procMemory(pid).VmRSS);
    }
    const ticks1 = cpuTicks(pid);
    const t1 = performance.now();
    const beats1 = await beats();
    const mem = procMemory(pid);
    const cpuPercent = (100 * (ticks1 - ticks0)) / CLK_TCK / ((t1 - t0) / 1000);

    // control: the raw socket round trip (this process asks), then the CLI as a person runs it
    const socketRtt = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await request(stateDir, { cmd: "status", history: true });
      socketRtt.push(performance.now() - t);
    }
    const socketRttNoHistory = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await request(stateDir, { cmd: "status" });
      socketRttNoHistory.push(performance.now() - t);
    }
    const nodeFloor = [];
    const cli = [];
    for (let i = 0; i < 10; i++) {
      nodeFloor.push(await timeCommand(process.execPath, ["-e", "0"]));
      cli.push(await timeCommand(BIN, ["status", "--json", "-f", manifest], (out) => {
        const doc = JSON.parse(out);
        if (doc.services.length !== SERVICES) throw new Error(`vigil status --json listed ${doc.services.length} services`);
      }));
    }
    const cliHistory = [];
    for (let i = 0; i < 5; i++) {
      cliHistory.push(await timeCommand(BIN, ["status", "--history", "-f", manifest], (out) => {
        const doc = JSON.parse(out);
        if (!Array.isArray(doc.services[0]?.history)) throw new Error("vigil status --history printed no history");
      }));
    }
    const cliTable = [];
    for (let i = 0; i < 5; i++) cliTable.push(await timeCommand(BIN, ["status", "-f", manifest]));

    const children = tracker.alive().filter((p) => p !== pid);
    const stop = await stopEverything(vigil, tracker, beater.exe);
    vigil = null;
    return {
      services: SERVICES,
      load_avg_1m_before: round(loadBefore, 2),
      start: {
        runs: START_RUNS,
        all_running_ms: round(start.runningMs, 0),
        all_running_ms_each: starts.map((s) => round(s.runningMs, 0)),
        all_beating_ms: round(start.beatingMs, 0),
        vm_hwm_mib_after_start: round(hwmAfterStart / 1024, 1),
      },
      steady: {
        window_s: round((t1 - t0) / 1000, 1),
        settle_s: SETTLE_S,
        cpu_percent_of_one_core: round(cpuPercent, 2),
        cpu_percent_per_5s: perSlice.map((p) => round(p, 1)),
        beats_per_s: round((beats1 - beats0) / ((t1 - t0) / 1000), 0),
        rss_mib_end: round(mem.VmRSS / 1024, 1),
        rss_mib_max_in_window: round(Math.max(...rss) / 1024, 1),
        vm_hwm_mib: round(mem.VmHWM / 1024, 1),
      },
      status: {
        cli_json_ms: msSummary(cli),
        cli_history_ms: msSummary(cliHistory),
        cli_table_ms: msSummary(cliTable),
        node_e_0_ms: msSummary(nodeFloor),
        socket_status_with_history_ms: msSummary(socketRtt),
        socket_status_ms: msSummary(socketRttNoHistory),
      },
      shutdown: { sigterm_to_exit_ms: stop.cleanShutdownMs === null ? null : round(stop.cleanShutdownMs, 0), children: children.length, left_behind: stop.leftBehind },
    };
  } catch (err) {
    throw new Error(`${err.message}\nvigil up stderr (tail):\n${vigil?.stderrTail() ?? ""}`, { cause: err });
  } finally {
    if (vigil) await stopEverything(vigil, tracker, beater.exe, 30_000);
  }
}

/** ms from spawn to exit of a command, its stdout read; `check` sees stdout */
function timeCommand(file, args, check) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const c = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out = [];
    let err = "";
    c.stdout.on("data", (d) => out.push(d));
    c.stderr.on("data", (d) => (err += d));
    c.on("error", reject);
    c.on("close", (code) => {
      const ms = performance.now() - t;
      if (code !== 0) return reject(new Error(`${file} ${args.join(" ")} exited ${code}: ${err}`));
      try {
        check?.(Buffer.concat(out).toString("utf8"));
      } catch (e) {
        return reject(e);
      }
      resolve(ms);
    });
  });
}

// ---------------------------------------------------------------- floors: what Node costs by itself

/**
 * What no supervisor written for Node can go below on this machine: a bare node server that takes the
 * lines of 1,000 beaters (one connection each, one line a second) and does nothing with them; and the
 * RSS of a node process that does nothing, without and with vigil's modules loaded.
 */
async function floors(dir, beater) {
  const bare = await runFloorChild(["--floor-server", join(dir, "floor.sock"), beater.argv.join("\u0000")]);
  const rss = {
    bare_node: await rssOfIdleNode("setTimeout(() => {}, 60000)"),
    node_with_vigil_modules: await rssOfIdleNode(
      `await import(${JSON.stringify(join(ROOT, "dist/cli/up.js"))}); await import(${JSON.stringify(join(ROOT, "dist/manifest/load.js"))}); setTimeout(() => {}, 60000)`,
    ),
  };
  const spawnAll = await runFloorChild(["--floor-spawn", join(dir, "floor-spawn.sock"), beater.argv.join("\u0000")]);
  return { bare_server: bare, spawn_all: spawnAll, rss_mib: rss };
}

/**
 * In a child process: spawn the 1,000 beaters in one loop with child_process.spawn, each with
 * stdout/stderr pipes in its own process group as vigil's children, and nothing else: the floor of a
 * start, without node's own start-up (node -e 0) and the manifest.
 */
async function floorSpawn(path, argvText) {
  const argv = argvText.split("\u0000");
  const tracker = new Tracker();
  try {
    const t0 = performance.now();
    for (let i = 0; i < SERVICES; i++) {
      const c = spawn(argv[0], argv.slice(1), {
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
        env: { ...process.env, VIGIL_SOCKET: path, VIGIL_SERVICE: `s${i}`, VIGIL_TOKEN: "t" },
      });
      c.stdout.on("data", () => undefined);
      c.stderr.on("data", () => undefined);
      tracker.add(c.pid);
    }
    const ms = performance.now() - t0;
    process.stdout.write(`${JSON.stringify({ children: SERVICES, spawn_loop_ms: round(ms, 0), rss_mib_after: round(procMemory(process.pid).VmRSS / 1024, 1) })}\n`);
  } finally {
    tracker.killAll();
    await sleepUntilGone(tracker);
  }
}

function runFloorChild(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1))) : reject(new Error(`floor child exited ${code}: ${out}`))));
  });
}

async function rssOfIdleNode(code) {
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: "ignore" });
  try {
    await sleep(1500);
    return round(procMemory(child.pid).VmRSS / 1024, 1);
  } finally {
    child.kill("SIGKILL");
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", resolve)));
  }
}

/** In a child process: the bare server with its 1,000 beaters, its CPU over 20 s, as one JSON line. */
async function floorServer(path, argvText) {
  const { createServer } = await import("node:net");
  const argv = argvText.split("\u0000");
  rmSync(path, { force: true });
  let lines = 0;
  const server = createServer((socket) => socket.on("data", () => lines++));
  await new Promise((resolve) => server.listen(path, resolve));
  const tracker = new Tracker();
  try {
    for (let i = 0; i < SERVICES; i++) {
      const c = spawn(argv[0], argv.slice(1), { stdio: "ignore", detached: true, env: { ...process.env, VIGIL_SOCKET: path, VIGIL_SERVICE: `s${i}`, VIGIL_TOKEN: "t" } });
      tracker.add(c.pid);
    }
    await sleep(5000);
    const t0 = performance.now();
    const ticks0 = cpuTicks(process.pid);
    const lines0 = lines;
    await sleep(20_000);
    const secs = (performance.now() - t0) / 1000;
    const result = {
      connections: SERVICES,
      window_s: round(secs, 1),
      reads_per_s: round((lines - lines0) / secs, 0),
      cpu_percent_of_one_core: round((100 * (cpuTicks(process.pid) - ticks0)) / CLK_TCK / secs, 2),
      rss_mib: round(procMemory(process.pid).VmRSS / 1024, 1),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    tracker.killAll();
    await sleepUntilGone(tracker);
    server.close();
    rmSync(path, { force: true });
  }
}

// ---------------------------------------------------------------- part 2: the library in process

/**
 * The library part runs in a node process of its own, so that the supervisor it measures has a heap of
 * its own size: a fork costs more the bigger the forking process, and this process has just parsed
 * megabytes of status documents.
 */
async function libPartInChild(dir, beater) {
  const child = spawn(process.execPath, [...LIB_NODE_ARGS, fileURLToPath(import.meta.url), "--lib-part"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, BENCH_SCALE_LIB: JSON.stringify({ dir, beater }) },
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const code = await new Promise((resolve) => child.once("exit", (c, sig) => resolve(c ?? sig)));
  // a library part that died hard leaves its beaters: they run our own temp binary
  const tracker = new Tracker();
  tracker.addByExe(beater.exe);
  if (tracker.killAll() > 0) await sleepUntilGone(tracker);
  if (code !== 0) throw new Error(`the library part exited with ${code}:\n${out.slice(-2000)}`);
  return JSON.parse(out.trim().split("\n").at(-1));
}

async function libPart(dir, beater) {
  const [{ loadManifest }, { Stack }, { stackView }] = await Promise.all([
    import("../dist/manifest/load.js"),
    import("../dist/runtime/stack.js"),
    import("./stack-view.js"),
  ]);
  const stateDir = join(dir, "lib-state");
  const file = join(dir, "lib.yaml");
  // the beaters of the detection-alone measure (offset 2) are not respawned until it is over
  writeManifest(file, stateDir, beater, SERVICES, "", (i) => i % 5 === 2);
  const tracker = new Tracker();
  let stack = null;
  let stopped = false;
  try {
    stack = await Stack.open(await loadManifest(file), { watch: false });
    const sup = stackView(stack);
    stack.view = sup;
    sup.on("spawned", (_name, pid) => tracker.add(pid));
    let running = 0;
    const allRunning = new Promise((resolve) => {
      sup.on("change", (_n, s, prev) => {
        if (s.state === "running" && prev.state !== "running") running++;
        else if (prev.state === "running" && s.state !== "running") running--;
        if (running === SERVICES) resolve();
      });
    });
    await stack.start();
    await withTimeout(allRunning, 120_000, () => `only ${running} of ${SERVICES} running`);
    await sleep(SETTLE_S * 1000);

    const restart = await restartLatency(stack, file, beater);
    const exit = await exitToState(sup);
    const detection = await deadlineToAction(sup, { offset: 2, restarts: "after" });
    const detectionWithRestarts = await deadlineToAction(sup, { offset: 4, restarts: "during" });
    const t = performance.now();
    await stack.shutdown();
    stopped = true;
    const shutdownMs = performance.now() - t;
    return { restart, exit_to_state: exit, detection, detection_with_restarts: detectionWithRestarts, shutdown_ms: round(shutdownMs, 0) };
  } finally {
    if (stack && !stopped) stack.killAllNow();
    tracker.addByExe(beater.exe);
    tracker.killAll();
    await sleepUntilGone(tracker);
  }
}

async function sleepUntilGone(tracker) {
  for (let i = 0; i < 200 && tracker.alive().length > 0; i++) await sleep(50);
}

/** raw spawns of `true` (as restart.bench.js does), then a flapping `true` added by a reload, then raw again */
async function restartLatency(stack, file, beater) {
  const sup = stack.view;
  const spawnOnly = [];
  const raw = await rawSpawnAndExit(RESTARTS, spawnOnly);
  appendFileSync(
    file,
    "  flapper:\n    command: \"true\"\n    restart: { policy: always, backoff: { initial: 0, factor: 1, jitter: 0 }, max_restarts: 1000000, window: 1s }\n",
  );
  const latencies = [];
  const cycles = [];
  let exitAt = null;
  let lastSpawn = null;
  let count = 0;
  const WARMUP = 20;
  const done = new Promise((resolve) => {
    sup.on("exited", (name) => name === "flapper" && (exitAt = performance.now()));
    sup.on("spawned", (name) => {
      if (name !== "flapper") return;
      const now = performance.now();
      if (count > WARMUP) {
        if (exitAt !== null) latencies.push(now - exitAt);
        if (lastSpawn !== null) cycles.push(now - lastSpawn);
      }
      lastSpawn = now;
      exitAt = null;
      if (++count > RESTARTS + WARMUP) resolve();
    });
  });
  const outcome = await stack.reload();
  if (!outcome.ok) throw new Error(`reload failed: ${outcome.error}`);
  await withTimeout(done, 60_000, () => `only ${count} flapper spawns`);
  sup.control("stop", ["flapper"]);
  await waitFor(() => sup.runners.get("flapper")?.status.state === "stopped", 10_000, "flapper did not stop");
  const rawAfter = await rawSpawnAndExit(RESTARTS, spawnOnly);
  const rawAll = summary([...raw, ...rawAfter]);
  const rawSpawn = summary(spawnOnly);
  const cycle = summary(cycles);
  const latency = summary(latencies);
  return {
    command: "true",
    restarts: cycles.length,
    raw_spawn_and_exit_ms: mapRound(rawAll),
    raw_before_ms: mapRound(summary(raw)),
    raw_after_ms: mapRound(summary(rawAfter)),
    raw_spawn_only_ms: mapRound(rawSpawn),
    restart_cycle_ms: mapRound(cycle),
    exit_to_respawn_ms: mapRound(latency),
    ratio_cycle_to_raw_median: round(cycle.median / rawAll.median, 2),
    ratio_exit_to_respawn_to_raw_median: round(latency.median / rawAll.median, 2),
    ratio_exit_to_respawn_to_raw_spawn_median: round(latency.median / rawSpawn.median, 2),
    beater: beater.kind,
  };
}

/**
 * `true` spawned n times as the supervisor spawns a child: each time until its exit, and the spawn
 * alone (the call until it returns with a pid: what "replacement spawned" means for vigil too).
 */
async function rawSpawnAndExit(n, spawnOnly = []) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise((resolve, reject) => {
      const c = spawn("true", [], { stdio: ["ignore", "pipe", "pipe"], detached: true });
      spawnOnly.push(performance.now() - t0);
      c.on("error", reject);
      c.on("exit", resolve);
    });
    samples.push(performance.now() - t0);
  }
  return samples;
}

/**
 * SIGKILL beaters one at a time: the child's exit event (what the runner hears) → its state leaves
 * running (the runner's status, what `vigil status` reads); and SIGKILL sent → state updated.
 */
async function exitToState(sup) {
  const noticed = [];
  const fromKill = [];
  for (let i = 0; i < KILLS; i++) {
    const name = serviceName(i * 5);
    const r = sup.runners.get(name);
    if (r.status.state !== "running") {
      await sleep(300);
      continue;
    }
    const pid = r.status.pid;
    let exitedAt = null;
    const onExited = (n) => n === name && (exitedAt = performance.now());
    const changed = new Promise((resolve) => {
      const onChange = (n, s, prev) => {
        if (n !== name || prev.state !== "running" || s.state === "running") return;
        sup.off("change", onChange);
        resolve(performance.now());
      };
      sup.on("change", onChange);
    });
    sup.on("exited", onExited);
    const t = performance.now();
    process.kill(pid, "SIGKILL");
    const at = await withTimeout(changed, 10_000, () => `${name} did not leave running after SIGKILL`);
    sup.off("exited", onExited);
    if (exitedAt !== null) noticed.push(at - exitedAt);
    fromKill.push(at - t);
    await sleep(10);
  }
  return { kills: noticed.length, exit_event_to_state_ms: mapRound(summary(noticed), 4), sigkill_to_state_ms: mapRound(summary(fromKill)) };
}

/**
 * SIGSTOP beaters spread over 4 s: each misses its deadline (its last beat as the supervisor took it
 * + misses × interval) and is restarted; the delay is from that deadline to the move to `stopping`.
 * `restarts: "after"` holds their respawns (an hour's backoff, see writeManifest) until every deadline
 * has been acted on, then starts them: detection alone, with 1,000 services beating. `"during"` lets
 * each go at once, so the restarts (a fork each) run among the later deadlines, as in a real outage.
 */
async function deadlineToAction(sup, { offset, restarts }) {
  const monitor = sup;
  const chosen = [];
  for (let i = 0; i < STOPS; i++) {
    const name = serviceName(i * 5 + offset);
    if (sup.runners.get(name)?.status.state === "running") chosen.push(name);
  }
  const wanted = new Set(chosen);
  const delays = [];
  const stoppedPids = new Map();
  let early = 0;
  let falseAlarms = 0;
  let spawns = 0;
  const onSpawned = () => spawns++;
  sup.on("spawned", onSpawned);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const cont = (name) => {
    try {
      process.kill(stoppedPids.get(name), "SIGCONT");
    } catch {
      // gone
    }
  };
  const done = new Promise((resolve) => {
    const onChange = (name, s, prev) => {
      if (s.state !== "stopping" || prev.state !== "running") return;
      if (!wanted.has(name) || !stoppedPids.has(name)) {
        falseAlarms++;
        return;
      }
      const now = performance.now();
      const last = monitor.lastBeat(name);
      const delay = now - (last.atMs + MISSES * INTERVAL_MS);
      if (delay < 0) early++;
      delays.push(delay);
      // the stop signal is pending on a stopped process: SIGCONT lets it end
      if (restarts === "during") cont(name);
      wanted.delete(name);
      if (wanted.size === 0) {
        sup.off("change", onChange);
        resolve();
      }
    };
    sup.on("change", onChange);
  });
  const spreadMs = 4000;
  loop.enable();
  chosen.forEach((name, i) =>
    setTimeout(() => {
      const pid = sup.runners.get(name)?.status.pid;
      if (!pid) return;
      stoppedPids.set(name, pid);
      process.kill(pid, "SIGSTOP");
    }, (i * spreadMs) / chosen.length),
  );
  try {
    await withTimeout(done, spreadMs + MISSES * INTERVAL_MS + 20_000, () => `${wanted.size} stopped beaters were not acted on`);
  } finally {
    loop.disable();
    sup.off("spawned", onSpawned);
    for (const name of stoppedPids.keys()) cont(name);
  }
  // vigil sends SIGCONT after the stop signal, so the stopped beaters end at once; held in backoff for
  // the detection-alone measure, they are started again now
  if (restarts === "after") await sup.control("start", chosen);
  // let the stopped ones be restarted before anything else is measured
  await waitFor(() => chosen.every((n) => sup.runners.get(n)?.status.state === "running"), 30_000, "stopped beaters did not come back");
  return {
    restarts,
    stopped_services: chosen.length,
    interval_ms: INTERVAL_MS,
    misses: MISSES,
    deadline_to_action_ms: mapRound(summary(delays)),
    early,
    false_alarms: falseAlarms,
    spawns_meanwhile: spawns,
    loop_delay_ms: { p50: round(loop.percentile(50) / 1e6, 2), p99: round(loop.percentile(99) / 1e6, 2), max: round(loop.max / 1e6, 2) },
  };
}

async function waitFor(pred, ms, what) {
  const until = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > until) throw new Error(what);
    await sleep(10);
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms))),
  ]);
}

function median(values) {
  return summary(values).median;
}

function mapRound(s, digits = 3) {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === "n" ? v : round(v, digits)]));
}

function msSummary(samples) {
  const s = summary(samples);
  return { n: s.n, median: round(s.median, 1), p99: round(s.p99, 1), min: round(s.min, 1), max: round(s.max, 1) };
}

// ---------------------------------------------------------------- the run

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-scale-"));
  try {
    const beater = buildBeater(dir);
    console.log(`beater: ${beater.kind}; ${SERVICES} services; CPU window ${STEADY_S} s`);
    const cli = PARTS.has("cli") ? await cliPart(dir, beater) : null;
    const floor = PARTS.has("floor") ? await floors(dir, beater) : null;
    const lib = PARTS.has("lib") ? await libPartInChild(dir, beater) : null;
    const verdicts = judge(cli, floor, lib);
    const result = {
      services: SERVICES,
      beater: beater.kind,
      command: "npm run bench -- scale",
      node_args: NODE_ARGS,
      cli,
      floor,
      lib,
      goals: verdicts,
    };
    const path = saveResult(process.env.BENCH_SCALE_RESULT ?? "scale", result);
    console.log(
      table([
        ["figure (" + SERVICES + " services)", "measured", "goal", "verdict"],
        ...verdicts.map((v) => [v.figure, v.measured, v.goal, v.pass === null ? "-" : v.pass ? "PASS" : "MISS"]),
      ]),
    );
    console.log(`-> ${path}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function judge(cli, floor, lib) {
  const rows = [];
  const row = (figure, measured, goal, pass) => rows.push({ figure, measured, goal, pass });
  if (cli) {
    row(`start: vigil up -> all running (median of ${cli.start.runs})`, `${cli.start.all_running_ms} ms`, `<= ${GOALS.start_ms} ms`, cli.start.all_running_ms <= GOALS.start_ms);
    row("start: vigil up -> all beating", `${cli.start.all_beating_ms} ms`, "(no goal)", null);
    row(`steady CPU, ${cli.steady.window_s} s`, `${cli.steady.cpu_percent_of_one_core} %`, `<= ${GOALS.cpu_percent} %`, cli.steady.cpu_percent_of_one_core <= GOALS.cpu_percent);
    const mb = (mib) => round((mib * 1024 * 1024) / 1e6, 1);
    row(
      "steady RSS (end / max in window)",
      `${cli.steady.rss_mib_end} / ${cli.steady.rss_mib_max_in_window} MiB (max ${mb(cli.steady.rss_mib_max_in_window)} MB)`,
      `<= ${GOALS.rss_mb} MB`,
      mb(cli.steady.rss_mib_max_in_window) <= GOALS.rss_mb,
    );
    row("VmHWM (incl. start-up)", `${cli.steady.vm_hwm_mib} MiB`, "(no goal)", null);
    row("vigil status --json (CLI) median", `${cli.status.cli_json_ms.median} ms`, `<= ${GOALS.status_cli_ms} ms`, cli.status.cli_json_ms.median <= GOALS.status_cli_ms);
    row("  floor: node -e 0 median", `${cli.status.node_e_0_ms.median} ms`, "", null);
    row("vigil status --history (CLI) median", `${cli.status.cli_history_ms.median} ms`, "", null);
    row("  control socket status (history) median", `${cli.status.socket_status_with_history_ms.median} ms`, "", null);
    row("  control socket status median", `${cli.status.socket_status_ms.median} ms`, "", null);
    row("vigil status (table) median", `${cli.status.cli_table_ms.median} ms`, "", null);
    row("shutdown: SIGTERM -> exit", `${cli.shutdown.sigterm_to_exit_ms} ms`, "(no goal)", null);
    row("  children left behind", `${cli.shutdown.left_behind}`, "0", cli.shutdown.left_behind === 0);
  }
  if (floor) {
    row(`floor: bare node server, ${floor.bare_server.connections} beaters' lines`, `${floor.bare_server.cpu_percent_of_one_core} %`, "", null);
    row(`floor: node spawning ${floor.spawn_all.children} children in a loop`, `${floor.spawn_all.spawn_loop_ms} ms`, "", null);
    row("floor: RSS of bare node / node + vigil's modules", `${floor.rss_mib.bare_node} / ${floor.rss_mib.node_with_vigil_modules} MiB`, "", null);
  }
  if (lib) {
    const r = lib.restart;
    row("raw spawn -> exit of `true` median", `${r.raw_spawn_and_exit_ms.median} ms`, "", null);
    row("restart cycle (spawn -> exit -> respawn) median", `${r.restart_cycle_ms.median} ms`, "", null);
    row("  ratio cycle / raw spawn -> exit", `${r.ratio_cycle_to_raw_median}`, `<= ${GOALS.restart_ratio}`, r.ratio_cycle_to_raw_median <= GOALS.restart_ratio);
    row("exit noticed -> respawned median", `${r.exit_to_respawn_ms.median} ms`, "", null);
    row("  ratio exit->respawn / raw spawn -> exit", `${r.ratio_exit_to_respawn_to_raw_median}`, `(<= ${GOALS.restart_ratio})`, null);
    row("raw spawn alone (call -> pid) median", `${r.raw_spawn_only_ms.median} ms`, "", null);
    row(
      "  ratio exit->respawn / raw spawn alone",
      `${r.ratio_exit_to_respawn_to_raw_spawn_median}`,
      `<= ${GOALS.restart_ratio}`,
      r.ratio_exit_to_respawn_to_raw_spawn_median <= GOALS.restart_ratio,
    );
    row("exit event -> state updated p99", `${lib.exit_to_state.exit_event_to_state_ms.p99} ms`, `<= ${GOALS.exit_to_state_p99_ms} ms`, lib.exit_to_state.exit_event_to_state_ms.p99 <= GOALS.exit_to_state_p99_ms);
    row("  SIGKILL sent -> state updated p99", `${lib.exit_to_state.sigkill_to_state_ms.p99} ms`, `(<= ${GOALS.exit_to_state_p99_ms} ms)`, null);
    const d = lib.detection;
    const dr = lib.detection_with_restarts;
    row("missed deadline -> action p99", `${d.deadline_to_action_ms.p99} ms`, `<= ${GOALS.deadline_to_action_p99_ms} ms`, d.deadline_to_action_ms.p99 <= GOALS.deadline_to_action_p99_ms && d.early === 0 && d.false_alarms === 0);
    row("  event loop delay p99 meanwhile", `${d.loop_delay_ms.p99} ms`, "", null);
    row("  ... with the restarts they cause, p99", `${dr.deadline_to_action_ms.p99} ms`, `(<= ${GOALS.deadline_to_action_p99_ms} ms)`, null);
    row("  event loop delay p99 meanwhile", `${dr.loop_delay_ms.p99} ms (${dr.spawns_meanwhile} spawns)`, "", null);
    row("in-process shutdown", `${lib.shutdown_ms} ms`, "(no goal)", null);
  }
  return rows;
}

// `node bench/scale.bench.js --lib-part` and `--floor-server PATH ARGV`: the parts that run in a process of their own
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2];
  try {
    if (mode === "--lib-part") {
      const { dir, beater } = JSON.parse(process.env.BENCH_SCALE_LIB);
      process.stdout.write(`${JSON.stringify(await libPart(dir, beater))}\n`);
    } else if (mode === "--floor-spawn") {
      await floorSpawn(process.argv[3], process.argv[4]);
    } else if (mode === "--floor-server") {
      await floorServer(process.argv[3], process.argv[4]);
    }
    process.exit(0);
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
}
