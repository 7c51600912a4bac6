// vigil beside its peers, in one run on one machine: supervisord (Debian's `supervisor`, when installed)
// and PM2 (installed for the run into a temporary folder from the npm registry), against the floors of
// what Node itself costs.
//
// For vigil, each peer and a plain Node process that spawns the same children in one loop:
// - 1,000 idle children (`sleep`): time from the start of the supervisor until all 1,000 run (counted
//   from outside: the supervisor's children in /proc whose command is `sleep`), the supervisor's RSS
//   (PM2: its daemon; supervisord: its python process), and its CPU over an idle window (utime + stime
//   from /proc/PID/stat);
// - a crash-looping child (bench/stamper.c: appends its start time to a file, exits 1): the restart gap
//   as the child sees it, the difference between consecutive start stamps;
// For vigil alone: 1,000 services beating once a second (bench/beater.c) against a bare Node server that
// reads the same lines; `vigil status --json` through the CLI against `node -e 0`.
//
// BENCH_PEERS_CHILDREN (1000), BENCH_PEERS_IDLE_S (60: the CPU window), BENCH_PEERS_SETTLE_S (10: after
// all run, before the window), BENCH_PEERS_GAPS (200 restarts a round), BENCH_PEERS_GAP_ROUNDS (3: vigil's
// and the floor's crash loops alternate this many times, their gaps pooled), BENCH_PEERS_ONLY (a comma list of
// vigil,floor,supervisord,pm2,idle,beats,restart,status), BENCH_PEERS_NODE_ARGS (node options of `vigil up`,
// e.g. "--cpu-prof --cpu-prof-dir=DIR").
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ROOT, round, saveResult, summary, table } from "./lib.js";
import { installPm2, killPid, PM2_VERSION } from "./pm2.js";
import { BIN, CLK_TCK, Tracker, buildBeater, cpuTicks, procMemory, waitAllGone, waitAllRunning, writeManifest } from "./scale-lib.js";

const CHILDREN = Number(process.env.BENCH_PEERS_CHILDREN ?? 1000);
const IDLE_S = Number(process.env.BENCH_PEERS_IDLE_S ?? 60);
const SETTLE_S = Number(process.env.BENCH_PEERS_SETTLE_S ?? 10);
const GAPS = Number(process.env.BENCH_PEERS_GAPS ?? 200);
const GAP_WARMUP = 20;
const GAP_ROUNDS = Number(process.env.BENCH_PEERS_GAP_ROUNDS ?? 3);
const NODE_ARGS = (process.env.BENCH_PEERS_NODE_ARGS ?? "").split(" ").filter(Boolean);
const ONLY = new Set((process.env.BENCH_PEERS_ONLY ?? "vigil,floor,supervisord,pm2,idle,beats,restart,status").split(","));
/** the idle children's argument: marks them as this run's in /proc */
const MARK = String(86_000 + (process.pid % 400));

// ---------------------------------------------------------------- /proc from outside

/** the pids of pid's children (all its threads'), from /proc/PID/task/TID/children */
function childrenOf(pid) {
  const out = [];
  let tasks;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, "latin1");
    } catch {
      continue;
    }
    for (const p of text.split(" ")) if (p.trim() !== "") out.push(Number(p));
  }
  return out;
}

function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, "latin1").trim();
  } catch {
    return null;
  }
}

/**
 * Polls until `supervisor()` (a pid, or null while it is not known yet) has `count` children running
 * `sleep`; they are added to `tracker`. Resolves with ms since t0.
 */
async function waitChildrenRunning(supervisor, count, t0, tracker, timeoutMs = 120_000) {
  const running = new Set();
  const notYet = new Map();
  while (performance.now() - t0 < timeoutMs) {
    const pid = supervisor();
    if (pid !== null) {
      for (const c of childrenOf(pid)) {
        if (running.has(c)) continue;
        tracker.add(c);
        if (comm(c) === "sleep") running.add(c);
        else notYet.set(c, true);
      }
      if (running.size >= count) return performance.now() - t0;
    }
    await sleep(25);
  }
  throw new Error(`only ${running.size} of ${count} children running after ${timeoutMs} ms`);
}

/** CPU (% of one core) and RSS of pid over IDLE_S seconds after SETTLE_S */
async function idleWindow(pid) {
  await sleep(SETTLE_S * 1000);
  const t0 = performance.now();
  const ticks0 = cpuTicks(pid);
  let rssMax = 0;
  while (performance.now() - t0 < IDLE_S * 1000) {
    await sleep(Math.min(5000, IDLE_S * 1000 - (performance.now() - t0)));
    rssMax = Math.max(rssMax, procMemory(pid).VmRSS);
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = (100 * (cpuTicks(pid) - ticks0)) / CLK_TCK / secs;
  return { window_s: round(secs, 1), cpu_percent: round(cpu, 2), rss_mib: round(rssMax / 1024, 1) };
}

/** every process still running `sleep MARK` (a crashed supervisor's leftovers) */
function sweepLeftovers(tracker) {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "latin1").split("\0");
      if (argv[0] === "sleep" && argv[1] === MARK) tracker.add(Number(entry));
    } catch {
      // gone
    }
  }
}

async function endAll(tracker) {
  sweepLeftovers(tracker);
  const left = tracker.alive().length;
  tracker.killAll();
  await waitAllGone(tracker, 10_000);
  return left;
}

function exitOf(proc) {
  return new Promise((resolve) => (proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once("exit", () => resolve())));
}

async function stopProc(proc, graceMs = 30_000) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const done = await Promise.race([exitOf(proc).then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    proc.kill("SIGKILL");
    await exitOf(proc);
  }
}

// ---------------------------------------------------------------- restart gaps from the child's stamps

/** the restart gaps (ms) the child stamped in `file`, after the warm-up */
async function gapsIn(file, timeoutMs = 60_000) {
  const t0 = performance.now();
  let stamps = [];
  while (performance.now() - t0 < timeoutMs) {
    try {
      stamps = readFileSync(file, "latin1").split("\n").filter(Boolean).map(BigInt);
    } catch {
      stamps = [];
    }
    if (stamps.length > GAPS + GAP_WARMUP) break;
    await sleep(50);
  }
  if (stamps.length < 3) throw new Error(`the crash-looping child started ${stamps.length} times in ${timeoutMs} ms`);
  const gaps = [];
  for (let i = Math.min(GAP_WARMUP, stamps.length - 2) + 1; i < stamps.length && gaps.length < GAPS; i++) gaps.push(Number(stamps[i] - stamps[i - 1]) / 1e6);
  return gaps;
}

function gapSummary(gaps) {
  const s = summary(gaps);
  return { n: s.n, median_ms: round(s.median, 2), p99_ms: round(s.p99, 2), min_ms: round(s.min, 2) };
}

async function gapsFrom(file, timeoutMs = 60_000) {
  return gapSummary(await gapsIn(file, timeoutMs));
}

/**
 * vigil's and the floor's crash loops in alternating rounds, their gaps pooled: on a machine whose
 * neighbours come and go, one run of each a few seconds apart gave ratios from 1.3 to 1.6 for the
 * same code; alternating, both meet the same mix of conditions
 */
async function alternatingGaps(root, stamper, sides) {
  const gaps = { vigil: [], floor: [] };
  const rounds = [];
  const errors = {};
  for (let i = 0; i < GAP_ROUNDS; i++) {
    const medians = {};
    for (const side of sides) {
      if (errors[side]) continue;
      try {
        const got = await (side === "vigil" ? vigilRestart : floorRestart)(root, stamper, i);
        gaps[side].push(...got);
        medians[side] = round(summary(got).median, 2);
      } catch (err) {
        console.error(`peers: ${side} restart: ${err.message}`);
        errors[side] = { error: err.message };
      }
    }
    rounds.push(medians);
  }
  const result = (side) => errors[side] ?? { ...gapSummary(gaps[side]), rounds: rounds.map((m) => m[side]) };
  return { vigil: sides.includes("vigil") ? result("vigil") : undefined, floor: sides.includes("floor") ? result("floor") : undefined };
}

// ---------------------------------------------------------------- vigil

function vigilIdleManifest(dir, count) {
  let text = `version: 1\nstate_dir: ${JSON.stringify(join(dir, "state"))}\nservices:\n`;
  for (let i = 0; i < count; i++) text += `  s${String(i).padStart(4, "0")}:\n    command: ["sleep", "${MARK}"]\n`;
  writeFileSync(join(dir, "supervisor.yaml"), text);
  return join(dir, "supervisor.yaml");
}

function vigilUp(manifest) {
  const env = NODE_ARGS.length > 0 ? { ...process.env, VIGIL_NODE_OPTIONS: NODE_ARGS.join(" ") } : process.env;
  return spawn(BIN, ["up", "-f", manifest], { stdio: "ignore", env });
}

async function vigilIdle(root, wantStatus) {
  const dir = join(root, "vigil-idle");
  mkdirSync(dir);
  const manifest = vigilIdleManifest(dir, CHILDREN);
  const tracker = new Tracker();
  const t0 = performance.now();
  const up = vigilUp(manifest);
  try {
    const startMs = await waitChildrenRunning(() => up.pid ?? null, CHILDREN, t0, tracker);
    const idle = await idleWindow(up.pid);
    const status = wantStatus ? await statusCli(manifest) : null;
    const sampling = JSON.parse(execFileSync(BIN, ["status", "--json", "-f", manifest], { encoding: "utf8", maxBuffer: 64 << 20 })).supervisor?.sampling ?? null;
    return { start_ms: round(startMs, 0), ...idle, status, sampling };
  } finally {
    await stopProc(up);
    await endAll(tracker);
  }
}

async function vigilRestart(root, stamper, nth) {
  const dir = join(root, `vigil-restart-${nth}`);
  mkdirSync(dir);
  // outside the manifest's folder, which vigil watches for edits: a file written 200 times a second
  // beside the manifest would be a cost of that watch, not of restarting
  const stamps = join(root, `vigil-stamps-${nth}`);
  writeFileSync(
    join(dir, "supervisor.yaml"),
    `version: 1\nservices:\n  flapper:\n    command: ${JSON.stringify([stamper, stamps])}\n` +
      "    restart: { policy: always, backoff: { initial: 0, factor: 1, jitter: 0 }, max_restarts: 1000000, window: 1s }\n",
  );
  const up = vigilUp(join(dir, "supervisor.yaml"));
  try {
    return await gapsIn(stamps);
  } finally {
    await stopProc(up);
  }
}

/**
 * `vigil status --json` through the CLI against `node -e 0`, alternating, 21 each: a node process takes
 * 100 to 130 ms to start here and its spread between runs is as large as the difference measured
 */
async function statusCli(manifest) {
  const node = [];
  const cli = [];
  for (let i = 0; i < 21; i++) {
    node.push(await timeCommand(process.execPath, ["-e", "0"]));
    cli.push(await timeCommand(BIN, ["status", "--json", "-f", manifest]));
  }
  return { cli_ms: round(summary(cli).median, 1), node_e_0_ms: round(summary(node).median, 1) };
}

function timeCommand(file, args) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const c = spawn(file, args, { stdio: ["ignore", "pipe", "ignore"] });
    c.stdout.on("data", () => undefined);
    c.on("error", reject);
    c.on("close", (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`${file} ${args.join(" ")} exited ${code}`))));
  });
}

/** 1,000 beaters (bench/beater.c) beating once a second: vigil's CPU against the bare server's */
async function vigilBeats(root, beater) {
  const dir = join(root, "vigil-beats");
  mkdirSync(dir);
  const stateDir = join(dir, "state");
  const manifest = join(dir, "supervisor.yaml");
  writeManifest(manifest, stateDir, beater, CHILDREN);
  const tracker = new Tracker();
  const t0 = performance.now();
  const up = vigilUp(manifest);
  tracker.add(up.pid);
  try {
    await waitAllRunning(stateDir, CHILDREN, t0, tracker, 120_000);
    return await idleWindow(up.pid);
  } finally {
    await stopProc(up);
    tracker.addByExe(beater.exe);
    tracker.killAll();
    await waitAllGone(tracker, 10_000);
  }
}

// ---------------------------------------------------------------- the floors: Node alone

/** this file as a child process in one of its floor modes */
function floorChild(mode, ...args) {
  return spawn(process.execPath, [fileURLToPath(import.meta.url), mode, ...args], { stdio: ["ignore", "pipe", "inherit"] });
}

async function floorIdle() {
  const tracker = new Tracker();
  const t0 = performance.now();
  const proc = floorChild("--spawn-idle", String(CHILDREN));
  try {
    const startMs = await waitChildrenRunning(() => proc.pid ?? null, CHILDREN, t0, tracker);
    const idle = await idleWindow(proc.pid);
    return { start_ms: round(startMs, 0), ...idle };
  } finally {
    await stopProc(proc);
    await endAll(tracker);
  }
}

async function floorRestart(root, stamper, nth) {
  const stamps = join(root, `floor-stamps-${nth}`);
  const proc = floorChild("--spawn-loop", stamper, stamps, String(GAPS + GAP_WARMUP + 1));
  try {
    return await gapsIn(stamps);
  } finally {
    await stopProc(proc);
  }
}

async function floorBeats(root, beater) {
  const proc = floorChild("--bare-server", join(root, "floor.sock"), beater.argv.join("\0"), String(CHILDREN));
  const tracker = new Tracker();
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  try {
    // the server says when its children are all connected
    const t0 = performance.now();
    while (!out.includes("\n")) {
      if (performance.now() - t0 > 120_000) throw new Error("the bare server's beaters did not connect");
      await sleep(50);
    }
    return await idleWindow(proc.pid);
  } finally {
    await stopProc(proc);
    tracker.addByExe(beater.exe);
    tracker.killAll();
    await waitAllGone(tracker, 10_000);
  }
}

/** In a child: `count` idle sleeps spawned in one loop as vigil spawns them (pipes, own process group). */
async function spawnIdle(count) {
  const children = [];
  for (let i = 0; i < count; i++) {
    const c = spawn("sleep", [MARK], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    c.stdout.on("data", () => undefined);
    c.stderr.on("data", () => undefined);
    children.push(c);
  }
  await new Promise((resolve) => process.once("SIGTERM", resolve));
  for (const c of children) c.kill("SIGKILL");
}

/** In a child: the crash-looping child spawned again as soon as it exits, `count` times. */
async function spawnLoop(stamper, stamps, count) {
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => {
      const c = spawn(stamper, [stamps], { stdio: ["ignore", "pipe", "pipe"], detached: true });
      c.stdout.on("data", () => undefined);
      c.stderr.on("data", () => undefined);
      c.once("exit", resolve);
    });
  }
  await new Promise((resolve) => process.once("SIGTERM", resolve));
}

/** In a child: a server that reads the beaters' lines and does nothing with them. */
async function bareServer(path, argvText, count) {
  const { createServer } = await import("node:net");
  const argv = argvText.split("\0");
  rmSync(path, { force: true });
  let connected = 0;
  let lines = 0;
  const server = createServer((socket) => {
    connected++;
    socket.on("data", () => lines++);
  });
  await new Promise((resolve) => server.listen(path, resolve));
  const children = [];
  for (let i = 0; i < count; i++) {
    children.push(spawn(argv[0], argv.slice(1), { stdio: "ignore", detached: true, env: { ...process.env, VIGIL_SOCKET: path, VIGIL_SERVICE: `s${i}`, VIGIL_TOKEN: "t" } }));
  }
  while (connected < count) await sleep(50);
  process.stdout.write("connected\n");
  await new Promise((resolve) => process.once("SIGTERM", resolve));
  for (const c of children) c.kill("SIGKILL");
  server.close();
  rmSync(path, { force: true });
  void lines;
}

// ---------------------------------------------------------------- supervisord

function supervisordConf(dir, programs) {
  return `[unix_http_server]
file=${join(dir, "supervisor.sock")}
[supervisord]
nodaemon=true
logfile=${join(dir, "supervisord.log")}
pidfile=${join(dir, "supervisord.pid")}
childlogdir=${join(dir, "logs")}
minfds=8192
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://${join(dir, "supervisor.sock")}
${programs}`;
}

function supervisordStart(dir, programs) {
  mkdirSync(join(dir, "logs"), { recursive: true });
  writeFileSync(join(dir, "supervisord.conf"), supervisordConf(dir, programs));
  return spawn("supervisord", ["-c", join(dir, "supervisord.conf")], { stdio: "ignore" });
}

async function supervisordIdle(root) {
  const dir = join(root, "supervisord-idle");
  const tracker = new Tracker();
  const t0 = performance.now();
  const proc = supervisordStart(
    dir,
    `[program:idle]\ncommand=sleep ${MARK}\nnumprocs=${CHILDREN}\nprocess_name=%(program_name)s_%(process_num)04d\nautorestart=true\nstartsecs=0\n`,
  );
  try {
    const startMs = await waitChildrenRunning(() => proc.pid ?? null, CHILDREN, t0, tracker);
    const idle = await idleWindow(proc.pid);
    return { start_ms: round(startMs, 0), ...idle };
  } finally {
    await stopProc(proc, 60_000);
    await endAll(tracker);
  }
}

async function supervisordRestart(root, stamper) {
  const dir = join(root, "supervisord-restart");
  const stamps = join(dir, "stamps");
  const proc = supervisordStart(dir, `[program:flapper]\ncommand=${stamper} ${stamps}\nautorestart=true\nstartsecs=0\nstartretries=1000000\n`);
  try {
    return await gapsFrom(stamps);
  } finally {
    await stopProc(proc);
  }
}

// ---------------------------------------------------------------- PM2

async function pm2Run(dir, pm2, apps, measure) {
  const home = join(dir, "home");
  const env = { ...process.env, PM2_HOME: home };
  writeFileSync(join(dir, "ecosystem.config.cjs"), `module.exports = { apps: ${JSON.stringify(apps)} };\n`);
  let daemon = null;
  const daemonPid = () => {
    if (daemon === null && existsSync(join(home, "pm2.pid"))) {
      const n = Number(readFileSync(join(home, "pm2.pid"), "utf8"));
      if (n > 0) daemon = n;
    }
    return daemon;
  };
  const t0 = performance.now();
  // asynchronous: `pm2 start` returns only once its daemon has started every app
  const cli = spawn(pm2, ["start", join(dir, "ecosystem.config.cjs")], { env, stdio: "ignore" });
  try {
    return await measure({ t0, daemonPid, cli });
  } finally {
    await exitOf(cli);
    try {
      execFileSync(pm2, ["kill"], { env, stdio: "ignore", timeout: 60_000 });
    } catch {
      // the daemon is killed below either way
    }
    if (daemonPid() !== null) await killPid(daemonPid());
  }
}

async function pm2Idle(root, pm2) {
  const dir = join(root, "pm2-idle");
  mkdirSync(dir);
  const apps = Array.from({ length: CHILDREN }, (_, i) => ({ name: `s${i}`, script: "sleep", args: MARK, interpreter: "none", autorestart: true }));
  const tracker = new Tracker();
  try {
    return await pm2Run(dir, pm2, apps, async ({ t0, daemonPid }) => {
      const startMs = await waitChildrenRunning(daemonPid, CHILDREN, t0, tracker);
      const idle = await idleWindow(daemonPid());
      return { start_ms: round(startMs, 0), ...idle };
    });
  } finally {
    await endAll(tracker);
  }
}

async function pm2Restart(root, pm2, stamper) {
  const dir = join(root, "pm2-restart");
  mkdirSync(dir);
  const stamps = join(dir, "stamps");
  const apps = [{ name: "flapper", script: stamper, args: stamps, interpreter: "none", autorestart: true, restart_delay: 0, max_restarts: 1000000, min_uptime: 0 }];
  return await pm2Run(dir, pm2, apps, () => gapsFrom(stamps));
}

// ---------------------------------------------------------------- the run

function buildStamper(dir) {
  const out = join(dir, "stamper");
  execFileSync("cc", ["-O2", "-o", out, join(ROOT, "bench/stamper.c")], { stdio: ["ignore", "ignore", "inherit"] });
  return out;
}

async function attempt(what, fn) {
  try {
    return await fn();
  } catch (err) {
    console.error(`peers: ${what}: ${err.message}`);
    return { error: err.message };
  }
}

export async function run() {
  const root = mkdtempSync(join(tmpdir(), "vigil-peers-"));
  try {
    const stamper = buildStamper(root);
    const beater = buildBeater(root);
    const hasSupervisord = (() => {
      try {
        execFileSync("sh", ["-c", "command -v supervisord"], { stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    })();
    const supervisordVersion = hasSupervisord ? execFileSync("supervisord", ["--version"], { encoding: "utf8" }).trim() : null;
    if (!hasSupervisord) console.log("supervisord is not installed (Debian: apt-get install supervisor): its column is skipped");
    const pm2 = ONLY.has("pm2") ? await attempt("installing pm2", () => installPm2(join(root, "pm2"))) : null;
    const loadBefore = (await import("node:os")).loadavg()[0];
    const r = { children: CHILDREN, idle_window_s: IDLE_S, settle_s: SETTLE_S, load_avg_1m_before: round(loadBefore, 2) };
    const log = (what, value) => console.log(`${what}: ${JSON.stringify(value)}`);
    if (ONLY.has("idle")) {
      if (ONLY.has("vigil")) log("vigil idle", (r.vigil_idle = await attempt("vigil idle", () => vigilIdle(root, ONLY.has("status")))));
      if (ONLY.has("floor")) log("floor idle", (r.floor_idle = await attempt("floor idle", () => floorIdle())));
      if (ONLY.has("supervisord") && hasSupervisord) log("supervisord idle", (r.supervisord_idle = await attempt("supervisord idle", () => supervisordIdle(root))));
      if (typeof pm2 === "string") log("pm2 idle", (r.pm2_idle = await attempt("pm2 idle", () => pm2Idle(root, pm2))));
    }
    if (ONLY.has("restart")) {
      const sides = ["vigil", "floor"].filter((side) => ONLY.has(side));
      const both = await alternatingGaps(root, stamper, sides);
      if (both.vigil) log("vigil restart", (r.vigil_restart = both.vigil));
      if (both.floor) log("floor restart", (r.floor_restart = both.floor));
      if (ONLY.has("supervisord") && hasSupervisord) log("supervisord restart", (r.supervisord_restart = await attempt("supervisord restart", () => supervisordRestart(root, stamper))));
      if (typeof pm2 === "string") log("pm2 restart", (r.pm2_restart = await attempt("pm2 restart", () => pm2Restart(root, pm2, stamper))));
    }
    if (ONLY.has("beats")) {
      log("vigil beats", (r.vigil_beats = await attempt("vigil beats", () => vigilBeats(root, beater))));
      log("floor beats", (r.floor_beats = await attempt("bare server", () => floorBeats(root, beater))));
    }
    const result = { command: "npm run bench -- peers", pm2: PM2_VERSION, supervisord: supervisordVersion, beater: beater.kind, ...r };
    const path = saveResult("peers", result);
    console.log(table(rows(result)));
    console.log(`-> ${path}`);
    return result;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** the table of BENCHMARKS.md: figure, vigil, supervisord, PM2, floor, vigil / floor */
function rows(r) {
  const v = (x, key) => (x && !x.error && x[key] !== undefined && x[key] !== null ? x[key] : "-");
  const ratio = (a, b) => (typeof a === "number" && typeof b === "number" && b > 0 ? round(a / b, 2) : "-");
  const out = [["figure", "vigil", "supervisord", "pm2", "floor (node)", "vigil / floor", "vigil / supervisord", "vigil / pm2"]];
  const line = (figure, key, a, s, p, f) =>
    out.push([figure, v(a, key), v(s, key), v(p, key), v(f, key), ratio(v(a, key), v(f, key)), ratio(v(a, key), v(s, key)), ratio(v(a, key), v(p, key))]);
  line(`${CHILDREN} idle children: start -> all running, ms`, "start_ms", r.vigil_idle, r.supervisord_idle, r.pm2_idle, r.floor_idle);
  line(`  RSS of the supervisor, MiB`, "rss_mib", r.vigil_idle, r.supervisord_idle, r.pm2_idle, r.floor_idle);
  line(`  CPU over ${IDLE_S} s idle, % of a core`, "cpu_percent", r.vigil_idle, r.supervisord_idle, r.pm2_idle, r.floor_idle);
  line("crash loop: restart gap median, ms", "median_ms", r.vigil_restart, r.supervisord_restart, r.pm2_restart, r.floor_restart);
  line("  restart gap p99, ms", "p99_ms", r.vigil_restart, r.supervisord_restart, r.pm2_restart, r.floor_restart);
  line(`${CHILDREN} services beating 1/s: CPU, % of a core`, "cpu_percent", r.vigil_beats, null, null, r.floor_beats);
  line("  RSS, MiB", "rss_mib", r.vigil_beats, null, null, r.floor_beats);
  const s = r.vigil_idle?.status;
  if (s) out.push(["vigil status --json (CLI) vs node -e 0, median ms", s.cli_ms, "-", "-", s.node_e_0_ms, ratio(s.cli_ms, s.node_e_0_ms), "-", "-"]);
  return out;
}

// `node bench/peers.bench.js --spawn-idle N | --spawn-loop STAMPER FILE N | --bare-server PATH ARGV N`: the floors
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, a, b, c] = process.argv.slice(2);
  try {
    if (mode === "--spawn-idle") await spawnIdle(Number(a));
    else if (mode === "--spawn-loop") await spawnLoop(a, b, Number(c));
    else if (mode === "--bare-server") await bareServer(a, b, Number(c));
    process.exit(0);
  } catch (err) {
    console.error(err);
    process.exit(1);
  }
}
