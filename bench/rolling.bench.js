// Zero-downtime restarts: requests failed and latency while a Node HTTP server is restarted 20 times
// under load (new connection per request), for vigil start-first on a vigil socket, vigil stop-first
// (the server binds its own port), and PM2's `pm2 reload` in cluster mode, measured in the same run.
// PM2 is installed for the run into a temporary folder from the npm registry.
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { ROOT, round, saveResult, summary, table } from "./lib.js";
import { installPm2, killPid, PM2_VERSION } from "./pm2.js";

const RESTARTS = Number(process.env.BENCH_ROLLING_RESTARTS ?? 20);
const MAX_REQUESTS = Number(process.env.BENCH_ROLLING_REQUESTS ?? 20_000);
const WORKERS = 4;
const VIGIL = join(ROOT, "bin", "vigil");

// The same server for all three: vigil's socket on fd 3 when given one, else PORT; ready over IPC.
const SERVER = `
const http = require("node:http");
const server = http.createServer((req, res) => { res.setHeader("connection", "close"); res.end(String(process.pid)); });
const fromVigil = process.env.LISTEN_FDS === "1" && Number(process.env.LISTEN_PID) === process.pid;
server.listen(fromVigil ? { fd: 3 } : { port: Number(process.env.PORT), host: "127.0.0.1" }, () => {
  if (process.env.VIGIL_SERVICE) {
    process.send({ type: "ready" });
    setInterval(() => process.send({ type: "beat" }), 1000).unref();
  } else if (process.send) process.send("ready");
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
process.on("SIGINT", () => server.close(() => process.exit(0)));
`;

/** a command run without blocking this process, whose load generator must keep going meanwhile */
const runAsync = promisify(execFile);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort() {
  return await new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function get(port) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = request({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve({ ok: res.statusCode === 200, ms: performance.now() - t0 }));
      res.on("error", () => resolve({ ok: false, ms: performance.now() - t0 }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ ok: false, ms: performance.now() - t0 }));
    req.end();
  });
}

/** Load until `done()` (or MAX_REQUESTS): every request a new connection. */
function load(port, done) {
  const latencies = [];
  let failed = 0;
  const loop = async () => {
    while (!done() && latencies.length + failed < MAX_REQUESTS) {
      const r = await get(port);
      if (r.ok) latencies.push(r.ms);
      else failed++;
    }
  };
  return Promise.all(Array.from({ length: WORKERS }, loop)).then(() => ({ latencies, failed }));
}

async function until(check, what, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`rolling bench: timed out waiting for ${what}`);
}

/** Runs `restart` RESTARTS times under load; returns the figures. */
async function measure(port, restart) {
  let finished = false;
  const running = load(port, () => finished);
  const t0 = performance.now();
  try {
    for (let i = 0; i < RESTARTS; i++) await restart();
  } finally {
    finished = true;
  }
  const { latencies, failed } = await running;
  const s = summary(latencies);
  return { requests: latencies.length + failed, failed, p50_ms: round(s.median, 2), p99_ms: round(s.p99, 2), max_ms: round(s.max, 2), seconds: round((performance.now() - t0) / 1000, 1) };
}

async function vigilScenario(startFirst) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-rolling-"));
  const port = await freePort();
  writeFileSync(join(dir, "server.cjs"), SERVER);
  writeFileSync(join(dir, "supervisor.yaml"), `version: 1
services:
  web:
    command: node server.cjs
    env: { PORT: "${port}" }
    heartbeat: { via: ipc, interval: 5s }
    restart: { policy: always, mode: ${startFirst ? "start-first" : "stop-first"}, backoff: { initial: 0 } }
    stop: { timeout: 5s }
${startFirst ? `    sockets: { http: "tcp://127.0.0.1:${port}" }\n` : ""}`);
  const up = spawn(VIGIL, ["up"], { cwd: dir, stdio: "ignore" });
  const current = () => {
    try {
      const doc = JSON.parse(readFileSync(join(dir, ".vigil", "status.json"), "utf8"));
      const web = doc.services.find((x) => x.service === "web" && (x.role ?? "current") === "current");
      return web && web.state === "running" && web.health === "healthy" ? web.pid : null;
    } catch {
      return null;
    }
  };
  try {
    await until(() => current() !== null, "vigil's web to be ready");
    let pid = current();
    return await measure(port, async () => {
      // asynchronous: the load runs in this process and must go on while the command works
      await runAsync(VIGIL, ["restart", "web"], { cwd: dir });
      await until(() => current() !== null && current() !== pid, "the restarted web to be ready");
      pid = current();
    });
  } finally {
    try {
      execFileSync(VIGIL, ["down"], { cwd: dir, stdio: "ignore", timeout: 30_000 });
    } catch {
      up.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function pm2Scenario() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-rolling-pm2-"));
  const home = join(dir, "home");
  const env = { ...process.env, PM2_HOME: home };
  let daemon = null;
  try {
    const pm2 = installPm2(dir);
    const port = await freePort();
    writeFileSync(join(dir, "server.cjs"), SERVER);
    writeFileSync(join(dir, "ecosystem.config.cjs"), `module.exports = { apps: [{ name: "web", script: ${JSON.stringify(join(dir, "server.cjs"))}, exec_mode: "cluster", instances: 1, wait_ready: true, listen_timeout: 10000, kill_timeout: 5000, env: { PORT: "${port}" } }] };\n`);
    execFileSync(pm2, ["start", join(dir, "ecosystem.config.cjs")], { env, stdio: "ignore" });
    daemon = Number(readFileSync(join(home, "pm2.pid"), "utf8"));
    await until(async () => (await get(port)).ok, "pm2's web to answer");
    return { version: PM2_VERSION, ...(await measure(port, () => runAsync(pm2, ["reload", "web"], { env }))) };
  } finally {
    try {
      execFileSync(join(dir, "node_modules", ".bin", "pm2"), ["delete", "all"], { env, stdio: "ignore", timeout: 30_000 });
    } catch {
      // the daemon is killed below either way
    }
    if (daemon !== null) await killPid(daemon);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run() {
  const startFirst = await vigilScenario(true);
  const stopFirst = await vigilScenario(false);
  let pm2;
  try {
    pm2 = await pm2Scenario();
  } catch (err) {
    pm2 = { error: err.message };
  }
  const result = {
    restarts: RESTARTS,
    workers: WORKERS,
    keep_alive: false,
    vigil_start_first_sockets: startFirst,
    vigil_stop_first: stopFirst,
    pm2_reload_cluster: pm2,
  };
  const path = saveResult("rolling", result);
  const row = (name, r) => (r.error ? [name, "-", "-", "-", "-", r.error] : [name, r.requests, r.failed, r.p50_ms, r.p99_ms, r.max_ms]);
  console.log(
    table([
      [`${RESTARTS} restarts under load`, "requests", "failed", "p50 ms", "p99 ms", "max ms"],
      row("vigil start-first + sockets", startFirst),
      row("vigil stop-first (own port)", stopFirst),
      row(`pm2 ${PM2_VERSION} reload (cluster)`, pm2),
    ]),
  );
  console.log(`-> ${path}`);
  return result;
}
