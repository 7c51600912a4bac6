// Shared by the scale and soak suites: the tiny beating child, the 1,000-service manifest, the real
// `vigil up` as its own process, /proc readers, and the bookkeeping that kills everything a run started.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { ROOT } from "./lib.js";

export const MAIN = join(ROOT, "dist/cli/main.js");
/** the command as npm installs it: a shell script that execs node with the daemon's V8 settings */
export const BIN = join(ROOT, "bin/vigil");
/** USER_HZ: the unit of utime and stime in /proc/PID/stat */
export const CLK_TCK = 100;

/**
 * The child every service runs: bench/beater.c compiled with `cc -O2` into `dir`; without a compiler,
 * a perl or python3 loop that does the same. `kind` says which, for the results.
 */
export function buildBeater(dir) {
  const out = join(dir, "beater");
  try {
    execFileSync("cc", ["-O2", "-o", out, join(ROOT, "bench/beater.c")], { stdio: ["ignore", "ignore", "pipe"] });
    return { argv: [out], exe: out, kind: "C (bench/beater.c, cc -O2)" };
  } catch {
    // no compiler: fall through
  }
  const perl =
    'use IO::Socket::UNIX; $SIG{PIPE}="IGNORE"; my $l=qq({"service":"$ENV{VIGIL_SERVICE}","token":"$ENV{VIGIL_TOKEN}","type":"beat"}\\n); my $s;' +
    " while (1) { $s ||= IO::Socket::UNIX->new(Peer => $ENV{VIGIL_SOCKET}); if ($s) { $s->autoflush(1); undef $s unless print {$s} $l } sleep 1 }";
  if (works("perl", ["-e", "use IO::Socket::UNIX; 1"])) return { argv: ["perl", "-e", perl], exe: null, kind: "perl one-liner (no C compiler)" };
  const py =
    "import os,socket,time\nl=('{\"service\":\"%s\",\"token\":\"%s\",\"type\":\"beat\"}\\n'%(os.environ['VIGIL_SERVICE'],os.environ['VIGIL_TOKEN'])).encode()\ns=None\n" +
    "while True:\n try:\n  if s is None:\n   s=socket.socket(socket.AF_UNIX);s.connect(os.environ['VIGIL_SOCKET'])\n  s.sendall(l)\n except OSError:\n  s=None\n time.sleep(1)\n";
  return { argv: ["python3", "-c", py], exe: null, kind: "python3 one-liner (no C compiler, no perl)" };
}

function works(file, args) {
  try {
    execFileSync(file, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const serviceName = (i) => `beater-${String(i + 1).padStart(4, "0")}`;

/**
 * The manifest of the run: `count` beaters, each beating once a second, half its interval. `held(i)`:
 * beaters whose restarts wait an hour (until a start command), so that a measure of detection alone is
 * not mixed with the respawns it causes.
 */
export function writeManifest(file, stateDir, beater, count, extra = "", held = () => false) {
  const command = JSON.stringify(beater.argv);
  let text = `version: 1\nstate_dir: ${JSON.stringify(stateDir)}\nservices:\n`;
  for (let i = 0; i < count; i++) {
    text +=
      `  ${serviceName(i)}:\n    command: ${command}\n` +
      "    heartbeat: { via: socket, interval: 2s, misses: 3, startup_grace: 30s }\n" +
      (held(i) ? "    restart: { policy: always, backoff: { initial: 1h, max: 1h, jitter: 0 } }\n" : "    restart: { policy: always }\n");
  }
  writeFileSync(file, text + extra);
}

/** One process by pid and /proc start time, so that a pid reused by someone else is never signalled. */
export function procStart(pid) {
  const stat = procStat(pid);
  return stat ? stat.startTime : null;
}

export function procStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // f[0] is field 3 of proc(5)
  return { state: f[0], utime: Number(f[11]), stime: Number(f[12]), startTime: Number(f[19]) };
}

/** CPU ticks (user + system) of pid so far */
export function cpuTicks(pid) {
  const s = procStat(pid);
  return s ? s.utime + s.stime : NaN;
}

/** VmRSS and VmHWM of pid, in KiB */
export function procMemory(pid) {
  const out = { VmRSS: NaN, VmHWM: NaN };
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, "utf8").split("\n")) {
      const m = /^(VmRSS|VmHWM):\s+(\d+) kB/.exec(line);
      if (m) out[m[1]] = Number(m[2]);
    }
  } catch {
    // gone
  }
  return out;
}

/** gone or a zombie: PID 1 here reaps late, so a zombie counts as ended */
export function isGone(pid, startTime) {
  const s = procStat(pid);
  return s === null || s.state === "Z" || s.state === "X" || (startTime !== undefined && s.startTime !== startTime);
}

/**
 * Every process a run started, by pid and start time. `killAll()` SIGKILLs the process group of each
 * one still alive (children of vigil lead their own groups), never a pid that now names someone else.
 */
export class Tracker {
  constructor() {
    this.procs = new Map();
  }

  add(pid) {
    if (!pid || this.procs.has(pid)) return;
    const start = procStart(pid);
    if (start !== null) this.procs.set(pid, start);
  }

  /** the processes running `exe` (our own temp binary): any a crashed supervisor left before we saw them */
  addByExe(exe) {
    if (!exe) return;
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readlinkSync(`/proc/${entry}/exe`) === exe) this.add(Number(entry));
      } catch {
        // gone, or not ours to read
      }
    }
  }

  alive() {
    return [...this.procs].filter(([pid, start]) => !isGone(pid, start)).map(([pid]) => pid);
  }

  killAll() {
    let killed = 0;
    for (const [pid, start] of this.procs) {
      if (isGone(pid, start)) continue;
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, "SIGKILL");
          killed++;
        } catch {
          // not a group leader, or gone
        }
      }
    }
    return killed;
  }
}

/** Waits until every tracked process has ended (or is a zombie); false on timeout. */
export async function waitAllGone(tracker, timeoutMs) {
  const until = performance.now() + timeoutMs;
  while (tracker.alive().length > 0) {
    if (performance.now() > until) return false;
    await sleep(50);
  }
  return true;
}

/**
 * `node [nodeArgs] dist/cli/main.js up -f manifest` as its own process; stderr's tail is kept for errors.
 * The supervisor is not detached: killing it by pid is enough, its children are tracked one by one.
 */
export function startVigilUp(manifest, nodeArgs = []) {
  const t0 = performance.now();
  // bin/vigil execs node: the pid is the supervisor's; extra node options (a profiler) go by VIGIL_NODE_OPTIONS
  const env = nodeArgs.length > 0 ? { ...process.env, VIGIL_NODE_OPTIONS: nodeArgs.join(" ") } : process.env;
  const proc = spawn(BIN, ["up", "-f", manifest], { stdio: ["ignore", "ignore", "pipe"], env });
  let stderr = "";
  let stderrLines = 0;
  proc.stderr.on("data", (c) => {
    stderr = (stderr + c).slice(-8000);
    for (const b of c) if (b === 10) stderrLines++;
  });
  const exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal, atMs: performance.now() })));
  return { proc, t0, exited, stderrTail: () => stderr, stderrLines: () => stderrLines };
}

/** STATE_DIR/status.json, or null while it is missing (written atomically, so never torn) */
export function readStatusFile(stateDir) {
  try {
    return JSON.parse(readFileSync(join(stateDir, "status.json"), "utf8"));
  } catch {
    return null;
  }
}

/**
 * Polls status.json until every one of `count` services is running; records the pids it sees in
 * `tracker` as it goes. Resolves with ms from `t0` (the spawn of `vigil up`) and when all had beaten.
 */
export async function waitAllRunning(stateDir, count, t0, tracker, timeoutMs, pollMs = 20) {
  const until = t0 + timeoutMs;
  let runningAtMs = null;
  let lastRunning = 0;
  while (performance.now() < until) {
    const doc = readStatusFile(stateDir);
    const now = performance.now();
    if (doc) {
      let running = 0;
      let beating = 0;
      for (const s of doc.services) {
        if (s.pid) tracker.add(s.pid);
        if (s.state === "running") running++;
        if (s.state === "running" && s.beats > 0) beating++;
      }
      lastRunning = running;
      if (running === count && runningAtMs === null) runningAtMs = now - t0;
      if (runningAtMs !== null && beating === count) return { runningMs: runningAtMs, beatingMs: now - t0 };
    }
    await sleep(pollMs);
  }
  throw new Error(`only ${lastRunning} of ${count} services running after ${timeoutMs} ms`);
}

/** Ends `vigil up` (SIGTERM, then SIGKILL after graceMs) and every process tracked; never throws. */
export async function stopEverything(vigil, tracker, exe, graceMs = 60_000) {
  let cleanShutdownMs = null;
  if (vigil && vigil.proc.exitCode === null && vigil.proc.signalCode === null) {
    const t = performance.now();
    vigil.proc.kill("SIGTERM");
    const done = await Promise.race([vigil.exited, sleep(graceMs).then(() => null)]);
    if (done) cleanShutdownMs = done.atMs - t;
    else vigil.proc.kill("SIGKILL");
  }
  tracker.addByExe(exe);
  const left = tracker.alive().length;
  if (left > 0) tracker.killAll();
  await waitAllGone(tracker, 10_000);
  return { cleanShutdownMs, leftBehind: left };
}
