// Heartbeats: beats per second the real supervisor (`vigil up`, its own process) takes over its socket
// from 50 concurrent clients, with its CPU and RSS; and the delay between a missed deadline and the
// restart it causes, over 500 services.
// Run as `node bench/heartbeat.bench.js --load-generator` this file is the load generator instead.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ROOT, round, saveResult, summary, table } from "./lib.js";

const CLIENTS = Number(process.env.BENCH_HB_CLIENTS ?? 50);
const WARMUP_MS = 1000;
const WINDOW_MS = Number(process.env.BENCH_HB_SECONDS ?? 5) * 1000;
const SERVICES = Number(process.env.BENCH_HB_SERVICES ?? 500);
/** of the detection services, this many never beat: they miss their startup deadline */
const SILENT = 50;
const INTERVAL_MS = 200;
const MISSES = 3;
const STARTUP_GRACE_MS = 2000;
/** the last beats (so the deadlines) are spread evenly over this long */
const SPREAD_MS = 3000;
/** services beating at a normal pace among the flood, then falling silent: detection under load */
const CANARIES = 10;
const GOAL_BEATS_PER_S = 250_000;
const GOAL_P99_MS = 5;
/** BENCH_HB_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the ingest supervisor (any node options, split on spaces) */
const SUPERVISOR_NODE_ARGS = (process.env.BENCH_HB_NODE_ARGS ?? "").split(" ").filter(Boolean);
/** BENCH_HB_MAIN=PATH runs another build's cli/main.js as the ingest supervisor, to compare two builds */
const SUPERVISOR_MAIN = process.env.BENCH_HB_MAIN ?? join(ROOT, "dist/cli/main.js");
/** clock ticks per second of /proc/PID/stat (USER_HZ, 100 on every Linux this runs on) */
const CLK_TCK = 100;

// ---------------------------------------------------------------- ingest over the socket

async function ingest() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-hb-"));
  const tokensDir = join(dir, "tokens");
  mkdirSync(tokensDir);
  const names = Array.from({ length: CLIENTS }, (_, i) => `svc${String(i).padStart(3, "0")}`);
  const canaryNames = Array.from({ length: CANARIES }, (_, i) => `canary${i}`);
  const command = `sh -c 'echo "$VIGIL_TOKEN" > ${tokensDir}/$VIGIL_SERVICE; exec sleep 1000'`;
  const service = (name, heartbeat) =>
    `  ${name}:\n    command: ${JSON.stringify(command)}\n    heartbeat: ${heartbeat}\n    restart: { backoff: { initial: 1h, max: 1h, jitter: 0 } }\n`;
  const manifest = join(dir, "supervisor.yaml");
  writeFileSync(
    manifest,
    `version: 1\nservices:\n${names.map((n) => service(n, "{ via: socket, interval: 1h, startup_grace: 1h }")).join("")}${canaryNames
      .map((n) => service(n, `{ via: socket, interval: ${INTERVAL_MS}ms, misses: ${MISSES}, startup_grace: 1h }`))
      .join("")}`,
  );
  const stateDir = join(dir, ".vigil");
  const { request } = await import("../dist/control/client.js");
  const sup = spawn(process.execPath, [...SUPERVISOR_NODE_ARGS, SUPERVISOR_MAIN, "up", "-f", manifest], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  sup.stderr.on("data", (c) => (stderr = (stderr + c).slice(-4000)));
  const supExited = new Promise((resolve) => sup.once("exit", resolve));
  let gen = null;
  let canaries = null;
  let childPids = [];
  try {
    const tokens = await waitForTokens(tokensDir, [...names, ...canaryNames], 30_000);
    const first = await request(stateDir, { cmd: "status" });
    childPids = first.services.map((s) => s.pid).filter((p) => p !== null);
    const flood = new Set(names);
    const before = beatsOf(first, flood);
    canaries = startCanaries(join(stateDir, "heartbeat.sock"), canaryNames, tokens);

    gen = spawn(process.execPath, [fileURLToPath(import.meta.url), "--load-generator"], {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, BENCH_HB_LOAD: JSON.stringify({ socket: join(stateDir, "heartbeat.sock"), clients: names.map((n) => ({ service: n, token: tokens.get(n) })) }) },
    });
    const genLines = createInterface({ input: gen.stdout })[Symbol.asyncIterator]();
    const started = (await genLines.next()).value;
    if (started !== "started") throw new Error(`load generator: expected "started", got ${started}`);
    await sleep(WARMUP_MS);

    const s0 = await sampleSupervisor(request, stateDir, sup.pid, flood);
    canaries.stopOneByOne(500, 300);
    let rssPeakKiB = 0;
    // how long the control socket keeps a client waiting while the beats pour in
    const pings = [];
    const windowEnd = s0.atMs + WINDOW_MS;
    while (performance.now() < windowEnd) {
      rssPeakKiB = Math.max(rssPeakKiB, procStatus(sup.pid).VmRSS);
      const t0 = performance.now();
      await request(stateDir, { cmd: "ping" });
      pings.push(performance.now() - t0);
      await sleep(Math.min(100, Math.max(0, windowEnd - performance.now())));
    }
    const s1 = await sampleSupervisor(request, stateDir, sup.pid, flood);
    const hwmKiB = procStatus(sup.pid).VmHWM;
    gen.stdin.end("stop\n");
    const written = JSON.parse((await genLines.next()).value);
    await new Promise((resolve) => (gen.exitCode !== null ? resolve() : gen.once("exit", resolve)));
    gen = null;

    // every line written must be counted once: wait until the socket buffers are drained
    let settled = await request(stateDir, { cmd: "status" });
    const drainBy = performance.now() + 30_000;
    while (beatsOf(settled, flood) - before < written.lines && performance.now() < drainBy) {
      await sleep(50);
      settled = await request(stateDir, { cmd: "status" });
    }
    const cli = await vigilStatusJson(manifest);
    const silencedAtWall = canaries.stop();
    canaries = null;
    // the failures are in the supervisor's log, whole once it has exited
    sup.kill("SIGTERM");
    await supExited;
    const detected = canaryDelays(join(stateDir, "vigil.log"), cli, silencedAtWall);
    const beatsPerS = (s1.beats - s0.beats) / ((s1.newestBeatWallMs - s0.newestBeatWallMs) / 1000);
    const ping = summary(pings);
    return {
      clients: CLIENTS,
      window_s: round((s1.newestBeatWallMs - s0.newestBeatWallMs) / 1000, 2),
      beats_per_s: Math.round(beatsPerS),
      cpu_percent_of_one_core: round((100 * (s1.cpuTicks - s0.cpuTicks)) / CLK_TCK / ((s1.atMs - s0.atMs) / 1000), 1),
      control_ping_ms_under_load: { n: ping.n, p50: round(ping.median, 1), max: round(ping.max, 1) },
      rss_peak_mib_in_window: round(rssPeakKiB / 1024, 1),
      vm_hwm_mib: round(hwmKiB / 1024, 1),
      lines_written: written.lines,
      beats_counted: beatsOf(cli, flood) - before,
      rejected_messages: cli.supervisor.rejected_messages,
      canaries: CANARIES,
      canary_delay_ms_under_load: detected.delays,
      canaries_failed_while_beating: detected.falseAlarms,
    };
  } catch (err) {
    throw new Error(`${err.message}\nsupervisor stderr:\n${stderr}`, { cause: err });
  } finally {
    if (gen) gen.kill("SIGKILL");
    canaries?.stop();
    if (sup.exitCode === null) sup.kill("SIGTERM");
    const gone = await Promise.race([supExited.then(() => true), sleep(20_000).then(() => false)]);
    if (!gone) {
      sup.kill("SIGKILL");
      for (const pid of childPids) killQuietly(-pid);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitForTokens(tokensDir, names, timeoutMs) {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const tokens = new Map();
    for (const f of readdirSync(tokensDir)) {
      const text = readFileSync(join(tokensDir, f), "utf8");
      if (text.endsWith("\n")) tokens.set(f, text.trim());
    }
    if (names.every((n) => tokens.has(n))) return tokens;
    if (performance.now() > until) throw new Error(`only ${tokens.size} of ${names.length} services wrote their token`);
    await sleep(50);
  }
}

/**
 * Beats of `names` counted by the supervisor, stamped with the newest of them it had taken (its own wall
 * clock, so exact however long the request waited), and its CPU ticks when the answer arrived.
 */
async function sampleSupervisor(request, stateDir, pid, names) {
  const doc = await request(stateDir, { cmd: "status" });
  const atMs = performance.now();
  const newestBeatWallMs = Math.max(...doc.services.filter((s) => names.has(s.name)).map((s) => Date.parse(s.last_beat_at ?? "0")));
  return { atMs, beats: beatsOf(doc, names), newestBeatWallMs, cpuTicks: cpuTicks(pid) };
}

function beatsOf(doc, names) {
  return doc.services.reduce((sum, s) => sum + (names.has(s.name) ? s.beats : 0), 0);
}

/** Each canary beats 4 times an interval over its own connection until told to fall silent. */
function startCanaries(socketPath, names, tokens) {
  const canaries = names.map((name) => ({
    name,
    socket: createConnection(socketPath).on("error", () => undefined),
    line: `${JSON.stringify({ service: name, token: tokens.get(name), type: "beat" })}\n`,
    silentFromMs: Infinity,
    silencedAtWall: null,
  }));
  const timer = setInterval(() => {
    const now = performance.now();
    for (const c of canaries) {
      if (c.silencedAtWall !== null) continue;
      if (now >= c.silentFromMs) c.silencedAtWall = Date.now();
      else c.socket.write(c.line);
    }
  }, INTERVAL_MS / 4);
  return {
    stopOneByOne(firstMs, stepMs) {
      const now = performance.now();
      canaries.forEach((c, i) => (c.silentFromMs = now + firstMs + i * stepMs));
    },
    /** wall time each canary fell silent (null: it never did) */
    stop() {
      clearInterval(timer);
      for (const c of canaries) c.socket.destroy();
      return new Map(canaries.map((c) => [c.name, c.silencedAtWall]));
    },
  };
}

/**
 * From the log: delay from each canary's deadline (its last beat as the supervisor took it, in status,
 * + misses × interval; both in wall-clock ms) to its failure record; and failures of canaries still beating.
 */
function canaryDelays(logFile, status, silencedAtWall) {
  const failures = readFileSync(logFile, "utf8")
    .split("\n")
    .filter((l) => l.includes('"failure"'))
    .map((l) => JSON.parse(l))
    .filter((r) => r.event === "failure" && r.reason === "heartbeat" && silencedAtWall.has(r.service));
  const delays = [];
  let falseAlarms = 0;
  for (const [name, silencedAt] of silencedAtWall) {
    const failure = failures.find((r) => r.service === name);
    if (!failure) continue;
    const failedAt = Date.parse(failure.time);
    const lastBeat = Date.parse(status.services.find((s) => s.name === name).last_beat_at);
    const delay = failedAt - (lastBeat + MISSES * INTERVAL_MS);
    // failed while it still beat, or before a beat that had reached the socket was even read
    if (silencedAt === null || failedAt < silencedAt || delay < 0) falseAlarms++;
    else delays.push(delay);
  }
  const s = summary(delays);
  return { delays: { n: s.n, p50: s.median, max: s.max }, falseAlarms };
}

function vigilStatusJson(manifest) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [join(ROOT, "dist/cli/main.js"), "status", "--json", "-f", manifest], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.on("error", reject);
    c.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`vigil status --json exited ${code}`))));
  });
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of proc(5))
}

function procStatus(pid) {
  const out = {};
  for (const line of readFileSync(`/proc/${pid}/status`, "utf8").split("\n")) {
    const m = /^(VmRSS|VmHWM):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

function killQuietly(pid) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** One connection per service, each writing big prebuilt buffers of whole lines as fast as the socket takes them. */
async function loadGenerator() {
  const { socket, clients } = JSON.parse(process.env.BENCH_HB_LOAD);
  const LINES_PER_BUFFER = 1000;
  let stopped = false;
  let buffersWritten = 0;
  const sockets = await Promise.all(
    clients.map(
      ({ service, token }) =>
        new Promise((resolve, reject) => {
          let text = "";
          for (let n = 0; n < LINES_PER_BUFFER; n++) text += `${JSON.stringify({ service, token, type: "beat", data: { n } })}\n`;
          const s = createConnection(socket, () => resolve({ s, buf: Buffer.from(text) }));
          s.once("error", reject);
        }),
    ),
  );
  const pump = ({ s, buf }) => {
    while (!stopped) {
      buffersWritten++;
      if (!s.write(buf)) return void s.once("drain", () => pump({ s, buf }));
    }
  };
  process.stdout.write("started\n");
  for (const c of sockets) pump(c);
  for await (const line of createInterface({ input: process.stdin })) if (line === "stop") break;
  stopped = true;
  await Promise.all(sockets.map(({ s }) => new Promise((resolve) => s.end(resolve))));
  process.stdout.write(`${JSON.stringify({ lines: buffersWritten * LINES_PER_BUFFER })}\n`);
}

// ---------------------------------------------------------------- detection delay, in process

/**
 * 450 services beat, then fall silent one after another, each at its own moment: the delay is from last
 * beat + misses × interval to the runner's move to `stopping`. The last 50 never beat and miss their
 * startup deadline, spawn + max(startup_grace, misses × interval); being started last, they miss it
 * after the start-up burst. Restarts wait an hour: the figure is detection, with the stops it causes.
 */
async function detection() {
  const [{ parseManifest }, { Stack }, { silentLogger }] = await Promise.all([
    import("../dist/manifest/load.js"),
    import("../dist/runtime/stack.js"),
    import("../dist/runtime/outputs/logger.js"),
  ]);
  const dir = mkdtempSync(join(tmpdir(), "vigil-hb-"));
  const names = Array.from({ length: SERVICES }, (_, i) => `svc${String(i).padStart(3, "0")}`);
  const silent = new Set(names.slice(SERVICES - SILENT));
  const manifest = parseManifest(
    `version: 1\nstate_dir: ${JSON.stringify(join(dir, ".vigil"))}\nservices:\n${names
      .map(
        (n) =>
          `  ${n}:\n    command: sleep 1000\n    heartbeat: { via: socket, interval: ${INTERVAL_MS}ms, misses: ${MISSES}, startup_grace: ${STARTUP_GRACE_MS}ms }\n` +
          "    restart: { backoff: { initial: 1h, max: 1h, jitter: 0 } }\n",
      )
      .join("")}`,
    join(dir, "supervisor.yaml"),
  );
  const stack = await Stack.open(manifest, { logger: silentLogger, watch: false });
  const instanceOf = (name) => stack.loop.state.instances.get(`${name}#0`);
  const startupDeadlineMs = Math.max(STARTUP_GRACE_MS, MISSES * INTERVAL_MS);
  const spawnedAt = new Map();
  const pids = new Set();
  const beaters = new Map(); // name -> interval timer, while it beats
  const fromBeat = [];
  const fromStartup = [];
  let early = 0;
  let spawns = 0;
  let allSpawned;
  const spawnedAll = new Promise((resolve) => (allSpawned = resolve));
  let allActed;
  const actedAll = new Promise((resolve) => (allActed = resolve));

  // a beat as the heartbeat socket hands it to the loop: the figure is the supervisor's, not the transport's
  const beat = (name) => {
    const token = instanceOf(name)?.token;
    if (!token) throw new Error(`${name} has no child to beat for`);
    stack.loop.post({ type: "MessageReceived", message: { ok: true, message: { type: "beat", service: name, token, data: { at: Date.now() }, text: undefined } } });
  };
  stack.bus.subscribe((event) => {
    const name = event.service;
    if (event.kind === "spawned") {
      // the watch began in the step that published this
      spawnedAt.set(name, performance.now());
      pids.add(event.fields.pid);
      if (++spawns === SERVICES) allSpawned();
      if (silent.has(name)) return;
      beat(name);
      beaters.set(name, setInterval(() => beat(name), INTERVAL_MS / 2));
      return;
    }
    if (event.kind !== "state" || event.fields.state !== "stopping" || event.fields.previous !== "running" || stack.loop.state.shuttingDown) return;
    const now = performance.now();
    const lastAtMs = instanceOf(name)?.heartbeat?.lastAtMs ?? Number.NaN;
    const beaten = !Number.isNaN(lastAtMs);
    const delay = now - (beaten ? lastAtMs + MISSES * INTERVAL_MS : spawnedAt.get(name) + startupDeadlineMs);
    if (delay < 0) early++;
    (beaten ? fromBeat : fromStartup).push(delay);
    if (fromBeat.length + fromStartup.length === SERVICES) allActed();
  });

  // the loop's own lateness while the deadlines pass, and how busy this process was meanwhile
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  let phase = null;
  await stack.start();
  try {
    await withTimeout(spawnedAll, 120_000, () => `only ${spawns} of ${SERVICES} services spawned`);
    // starting 500 children keeps the loop busy for a while: let it settle before the first deadline
    await sleep(1000);
    loopDelay.enable();
    const cpuAtStart = process.cpuUsage();
    const phaseStart = performance.now();
    const beating = names.filter((n) => !silent.has(n));
    beating.forEach((name, i) => {
      setTimeout(() => {
        clearInterval(beaters.get(name));
        beaters.delete(name);
        beat(name);
      }, (i * SPREAD_MS) / beating.length);
    });
    await withTimeout(actedAll, 60_000, () => `only ${fromBeat.length + fromStartup.length} of ${SERVICES} deadlines were acted on`);
    loopDelay.disable();
    const cpu = process.cpuUsage(cpuAtStart);
    phase = { cpuPercent: (100 * (cpu.user + cpu.system)) / 1000 / (performance.now() - phaseStart) };
  } finally {
    for (const t of beaters.values()) clearInterval(t);
    await stack.shutdown();
    for (const pid of pids) killQuietly(pid); // a no-op when shutdown did its job
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    all: summary([...fromBeat, ...fromStartup]), fromBeat: summary(fromBeat), fromStartup: summary(fromStartup), early, spawns,
    loopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    cpuPercent: phase.cpuPercent,
  };
}

function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(message())), ms))),
  ]);
}

// ---------------------------------------------------------------- the suite

export async function run() {
  const only = process.env.BENCH_HB_ONLY; // ingest | detection, to work on one half
  const load = loadavg().map((l) => round(l, 2));
  const ing = only === "detection" ? null : await ingest();
  const det = only === "ingest" ? null : await detection();
  if (only) return console.log(JSON.stringify(ing ?? det, null, 2));
  const ingestOk = {
    rate: ing.beats_per_s >= GOAL_BEATS_PER_S,
    counted: ing.beats_counted === ing.lines_written,
    rejected: ing.rejected_messages === 0,
    canaries: ing.canaries_failed_while_beating === 0 && ing.canary_delay_ms_under_load.n === CANARIES,
  };
  const delayOk = { p99: det.all.p99 <= GOAL_P99_MS, early: det.early === 0 };
  const r = (s) => ({ n: s.n, p50: round(s.median), p99: round(s.p99), min: round(s.min), max: round(s.max) });
  const result = {
    load_average_at_start: load,
    ingest: ing,
    detection: {
      services: SERVICES,
      interval_ms: INTERVAL_MS,
      misses: MISSES,
      startup_grace_ms: STARTUP_GRACE_MS,
      spread_ms: SPREAD_MS,
      delay_ms: r(det.all),
      delay_after_last_beat_ms: r(det.fromBeat),
      delay_after_startup_deadline_ms: r(det.fromStartup),
      acted_before_deadline: det.early,
      event_loop_delay_ms: { p99: round(det.loopDelayMs.p99, 1), max: round(det.loopDelayMs.max, 1) },
      cpu_percent_of_one_core: round(det.cpuPercent, 1),
    },
    goal: `>= ${GOAL_BEATS_PER_S} beats/s over the socket from ${CLIENTS} clients, each counted once, none rejected; p99 deadline-to-action delay <= ${GOAL_P99_MS} ms over ${SERVICES} services`,
    pass_ingest: Object.values(ingestOk).every(Boolean),
    pass_delay: Object.values(delayOk).every(Boolean),
  };
  result.pass = result.pass_ingest && result.pass_delay;
  const path = saveResult("heartbeat", result);
  const mark = (ok) => (ok ? "PASS" : "MISS");
  console.log(
    table([
      ["heartbeats", "figure", "goal", ""],
      [`beats/s taken (${CLIENTS} clients, ${ing.window_s} s)`, ing.beats_per_s, `>= ${GOAL_BEATS_PER_S}`, mark(ingestOk.rate)],
      ["supervisor CPU, % of one core", ing.cpu_percent_of_one_core, "", ""],
      ["supervisor RSS peak in window / VmHWM, MiB", `${ing.rss_peak_mib_in_window} / ${ing.vm_hwm_mib}`, "", ""],
      ["control ping under load, p50 / max ms", `${ing.control_ping_ms_under_load.p50} / ${ing.control_ping_ms_under_load.max}`, "", ""],
      ["lines written / beats counted", `${ing.lines_written} / ${ing.beats_counted}`, "equal", mark(ingestOk.counted)],
      ["rejected messages", ing.rejected_messages, "0", mark(ingestOk.rejected)],
      [
        `meanwhile: ${CANARIES} canaries, deadline -> failure p50 / max ms`,
        `${ing.canary_delay_ms_under_load.p50} / ${ing.canary_delay_ms_under_load.max} (n=${ing.canary_delay_ms_under_load.n})`,
        "",
        "",
      ],
      ["meanwhile: canaries failed while still beating", ing.canaries_failed_while_beating, "0", mark(ingestOk.canaries)],
      [`deadline -> action p50 ms (${det.all.n} misses, ${SERVICES} services)`, round(det.all.median), "", ""],
      ["deadline -> action p99 ms", round(det.all.p99), `<= ${GOAL_P99_MS}`, mark(delayOk.p99)],
      ["deadline -> action max ms", round(det.all.max), "", ""],
      ["acted before the deadline", det.early, "0", mark(delayOk.early)],
      ["event loop delay p99 / max ms", `${round(det.loopDelayMs.p99, 1)} / ${round(det.loopDelayMs.max, 1)}`, "", ""],
    ]),
  );
  console.log(`load average at start ${load.join(" ")}  ${mark(result.pass)}  -> ${path}`);
  return result;
}

if (process.argv[2] === "--load-generator" && import.meta.url === pathToFileURL(process.argv[1]).href) await loadGenerator();
