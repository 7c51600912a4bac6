// npm run chaos [-- --seconds S --seed N --services N --keep --verbose]: a chaos soak of the real
// `vigil up`. Random steps from a seeded PRNG (signals to children and their descendants, hostile socket
// clients, manifest edits good and bad, CLI commands) on a stack of mixed services; after every step the
// promises are checked (scripts/chaos/invariants.js); at the end `vigil down` must leave nothing. Prints
// and saves (bench/results/chaos.json) the steps, violations, crashes, leftovers, RSS and status latency;
// exits 1 when anything was violated.
import { randomInt } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { round, saveResult } from "../bench/lib.js";
import { Attacks } from "./chaos/attacks.js";
import { controlRequest, rssKib, runCli, startVigilUp, tail } from "./chaos/control.js";
import { check } from "./chaos/invariants.js";
import { commandLine, isLive, readStat, scanMarked, signalSeen } from "./chaos/proc.js";
import { createRandom } from "./chaos/random.js";
import { latencyFigures, printSummary, rssGrowth } from "./chaos/report.js";
import { Stack } from "./chaos/stack.js";
import { STEPS, STEP_WEIGHTS } from "./chaos/steps.js";

const { values: opts } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    seed: { type: "string" },
    services: { type: "string", default: "50" },
    keep: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
  },
});
const SECONDS = Number(opts.seconds);
const SEED = opts.seed === undefined ? randomInt(2 ** 31) : Number(opts.seed);
const SERVICES = Number(opts.services);
for (const [name, value] of [["--seconds", SECONDS], ["--seed", SEED], ["--services", SERVICES]]) {
  if (!Number.isInteger(value) || value < (name === "--seed" ? 0 : 1)) {
    console.error(`chaos: ${name} must be a whole number${name === "--seed" ? "" : " above 0"}`);
    process.exit(2);
  }
}
const RSS_EVERY_MS = 5_000;
const PROGRESS_EVERY_MS = 30_000;
/** after a `vigil down` that returned too early: longer than any idle timeout of the supervisor's sockets */
const UP_EXIT_WAIT_MS = 90_000;
/** pause after each step's check: a step about every half second on average */
const GAP_MS = [100, 700];

const random = createRandom(SEED);
const dir = mkdtempSync(join(tmpdir(), "vigil-chaos-"));
const t0 = performance.now();
const ctx = {
  dir,
  stateDir: join(dir, "state"),
  marker: `VIGIL_CHAOS=${dir}`,
  serviceCount: SERVICES,
  random,
  stack: new Stack(dir, SERVICES, random, join(import.meta.dirname, "chaos/beater.js")),
  attacks: null,
  vigil: null,
  shuttingDown: false,
  nowMs: () => performance.now() - t0,
  /** when the first step was taken, in nowMs(); times in the results count from there */
  chaosStartMs: 0,
  chaosS() {
    return round((this.nowMs() - this.chaosStartMs) / 1000, 1);
  },
  interrupted: false,
  stepIndex: 0,
  stepKind: "start",
  checks: 0,
  /** services judged by the job invariant, those left out because the two status reads differed, expectations met */
  judged: { services: 0, raced: 0, expectationsMet: {} },
  latencies: [],
  violations: [],
  repeats: 0,
  seenViolations: new Set(),
  crashes: [],
  expectations: [],
  /** processes SIGSTOPped where nothing in vigil would notice, and when to let them go on */
  paused: [],
  /** services held down by vigil stop → their expectation */
  held: new Map(),
  /** service → wall times of the edits that changed its spawn definition */
  spawnEdits: new Map(),
  configExitsSeen: new Set(),
  emptyRunning: new Map(),
  lastStatus: null,
  lastScan: [],
  violation(invariant, description, { key = `${invariant}:${description}`, service = null } = {}) {
    if (this.seenViolations.has(key)) return void this.repeats++;
    this.seenViolations.add(key);
    const v = { t_s: this.chaosS(), step: this.stepIndex, step_kind: this.stepKind, invariant, description };
    if (service !== null) v.events = recentEvents(service);
    this.violations.push(v);
    console.log(`VIOLATION [${invariant}] t=${v.t_s}s step ${v.step} (${v.step_kind}): ${description}`);
    for (const e of v.events ?? []) console.log(`    ${e}`);
  },
};
ctx.attacks = new Attacks(ctx.stateDir, random);

/** the last events vigil recorded for a service, to tell what it was doing */
function recentEvents(service) {
  try {
    const text = readFileSync(join(ctx.stateDir, "events.jsonl"), "utf8");
    return text
      .slice(-2_000_000)
      .split("\n")
      .filter((l) => l.includes(`"service":${JSON.stringify(service)}`))
      .slice(-6)
      .map((l) => {
        const e = JSON.parse(l);
        return `${e.at} ${e.kind}: ${e.message}`;
      });
  } catch {
    return [];
  }
}

function upStarted() {
  const vigil = startVigilUp(dir, ctx.stack.file, ctx.marker, join(dir, "up.log"), (code, signal) => {
    vigil.exitedAt = ctx.nowMs();
    if (ctx.shuttingDown) return;
    const crash = { t_s: ctx.chaosS(), step: ctx.stepIndex, step_kind: ctx.stepKind, code, signal, output: tail(join(dir, "up.log"), 30) };
    ctx.crashes.push(crash);
    console.log(`CRASH t=${crash.t_s}s step ${crash.step} (${crash.step_kind}): vigil up exited ${code ?? signal}\n${crash.output}`);
  });
  vigil.exitedAt = null;
  ctx.vigil = vigil;
  return vigil;
}

async function waitAnswering(ms) {
  const until = ctx.nowMs() + ms;
  while (ctx.nowMs() < until && ctx.vigil.exitedAt === null) {
    const r = await controlRequest(ctx.stateDir, { cmd: "status" }, 2_000);
    if (r.ok) return r.data;
    await sleep(100);
  }
  throw new Error(`vigil up did not answer within ${ms} ms:\n${tail(join(dir, "up.log"), 30)}`);
}

const rssSamples = [];
function sampleRss() {
  const kib = ctx.vigil.exitedAt === null ? rssKib(ctx.vigil.pid) : null;
  if (kib !== null) rssSamples.push({ t_s: ctx.chaosS(), pid: ctx.vigil.pid, rss_mib: round(kib / 1024, 1) });
}

/** lets go on the paused processes whose time has come (all of them with Infinity) */
function resumePaused(nowMs) {
  ctx.paused = ctx.paused.filter(({ proc, resumeAtMs }) => {
    if (resumeAtMs > nowMs) return true;
    signalSeen(proc, "SIGCONT", ctx.marker);
    return false;
  });
}

async function soak() {
  const stepsByKind = {};
  let skipped = 0;
  let nextProgressMs = PROGRESS_EVERY_MS;
  const chaosStart = ctx.chaosStartMs;
  while (ctx.nowMs() - chaosStart < SECONDS * 1000 && !ctx.interrupted) {
    if (ctx.vigil.exitedAt !== null) {
      // counted as a crash when it exited; the soak goes on with a new supervisor, which must end
      // what the dead one left (SPEC §5)
      ctx.held.clear();
      upStarted();
      await waitAnswering(30_000);
    }
    resumePaused(ctx.nowMs());
    ctx.attacks.release(ctx.nowMs());
    const kind = random.weighted(STEP_WEIGHTS);
    ctx.stepIndex++;
    ctx.stepKind = kind;
    const what = await STEPS[kind](ctx);
    if (what === null) skipped++;
    else stepsByKind[kind] = (stepsByKind[kind] ?? 0) + 1;
    if (opts.verbose && what !== null) console.log(`${ctx.chaosS()}s #${ctx.stepIndex} ${kind}: ${what}`);
    await check(ctx);
    if (ctx.nowMs() - chaosStart >= nextProgressMs) {
      nextProgressMs += PROGRESS_EVERY_MS;
      const rss = rssSamples.at(-1)?.rss_mib ?? "?";
      console.log(`${ctx.chaosS().toFixed(0)} s: ${ctx.stepIndex} steps, ${ctx.violations.length} violations, ${ctx.crashes.length} crashes, RSS ${rss} MiB, max status ${Math.max(...ctx.latencies).toFixed(0)} ms`);
    }
    await sleep(random.int(GAP_MS[0], GAP_MS[1]));
  }
  return { stepsByKind, skipped, seconds: round((ctx.nowMs() - chaosStart) / 1000, 1) };
}

/** `vigil down`, then: has vigil up exited, and is anything of the stack left? */
async function down() {
  ctx.shuttingDown = true;
  ctx.stepKind = "down";
  const pid = ctx.vigil.pid;
  const heldOpen = Object.fromEntries(["control.sock", "heartbeat.sock"].map((w) => [w, ctx.attacks.held.filter((h) => h.path.endsWith(w)).length]));
  // Ctrl-C reached vigil up too (same terminal), which then stopped by itself
  const r = ctx.vigil.exitedAt === null ? await runCli(["down"], ctx.stack.file, 120_000) : { code: 0, ms: 0, stderr: "" };
  const upExited = !isLive(readStat(pid));
  // vigil up itself, if still there, is a violation of its own below, not a leftover
  const leftovers = scanMarked(ctx.marker).filter((p) => p.pid !== pid).map((p) => ({ pid: p.pid, service: p.service, state: p.state, command: commandLine(p.pid), proc: p }));
  if (r.code !== 0) ctx.violation("down", `vigil down exited ${r.code}: ${r.stderr.split("\n")[0]}`);
  for (const l of leftovers) ctx.violation("down", `left after vigil down: pid ${l.pid} of ${l.service} (${l.state}) ${l.command}`);
  if (!upExited) {
    // how long it lingers tells what holds it; what the chaos held open at that moment too
    const returnedMs = ctx.nowMs();
    await Promise.race([ctx.vigil.exited, sleep(UP_EXIT_WAIT_MS)]);
    const lingered = ctx.vigil.exitedAt === null ? `still ran ${UP_EXIT_WAIT_MS / 1000} s later and was killed` : `exited ${((ctx.vigil.exitedAt - returnedMs) / 1000).toFixed(1)} s later`;
    const held = Object.entries(heldOpen).map(([w, n]) => `${n} on ${w}`).join(", ");
    ctx.violation("down", `vigil down returned (${r.code}) after ${(r.ms / 1000).toFixed(1)} s while vigil up (pid ${pid}) still ran; it ${lingered} (half-open connections held by the chaos: ${held})`);
    if (ctx.vigil.exitedAt === null) process.kill(pid, "SIGKILL");
  }
  for (const l of leftovers) {
    signalSeen(l.proc, "SIGCONT", ctx.marker);
    signalSeen(l.proc, "SIGKILL", ctx.marker);
  }
  return {
    code: r.code,
    ms: round(r.ms, 0),
    up_exited: upExited,
    held_open: heldOpen,
    leftovers: leftovers.map(({ proc, ...l }) => l),
  };
}

async function main() {
  console.log(`chaos: seed ${SEED}, ${SECONDS} s, ${SERVICES} services (repeat with --seed ${SEED})`);
  ctx.stack.write();
  const valid = await runCli(["check"], ctx.stack.file);
  if (valid.code !== 0) throw new Error(`the generated manifest is invalid:\n${valid.stderr}`);
  upStarted();
  ctx.lastStatus = await waitAnswering(30_000);
  // the stack's own start (dependents wait for health) before the first step
  await sleep(5_000);
  await check(ctx);
  ctx.chaosStartMs = ctx.nowMs();
  sampleRss();
  const rssTimer = setInterval(sampleRss, RSS_EVERY_MS);
  let soaked;
  try {
    soaked = await soak();
  } finally {
    clearInterval(rssTimer);
  }
  sampleRss();
  await Promise.all(ctx.attacks.floods);
  const stopped = await down();
  ctx.attacks.release(Infinity);
  resumePaused(Infinity);
  const finalPid = ctx.vigil.pid;
  const ofFinal = rssSamples.filter((s) => s.pid === finalPid);
  const rssAll = rssSamples.map((s) => s.rss_mib);
  const result = {
    command: `npm run chaos -- --seconds ${SECONDS}`,
    interrupted: ctx.interrupted,
    seed: SEED,
    seconds: soaked.seconds,
    chaos_minutes: round(soaked.seconds / 60, 1),
    services: SERVICES,
    steps: { total: ctx.stepIndex, skipped: soaked.skipped, by_kind: soaked.stepsByKind },
    checks: ctx.checks,
    judged: ctx.judged,
    violations: ctx.violations,
    repeats: ctx.repeats,
    crashes: ctx.crashes,
    leftovers: stopped.leftovers,
    down: { code: stopped.code, ms: stopped.ms, up_exited: stopped.up_exited, held_open: stopped.held_open },
    status_latency: latencyFigures(ctx.latencies),
    rss: {
      start_mib: rssAll[0] ?? null,
      end_mib: rssAll.at(-1) ?? null,
      max_mib: rssAll.length > 0 ? Math.max(...rssAll) : null,
      // after a crash, only the last supervisor's samples say anything about growth
      growth: rssGrowth(ofFinal, soaked.seconds),
      samples: rssSamples.map(({ t_s, rss_mib }) => [t_s, rss_mib]),
    },
  };
  printSummary(result);
  const path = saveResult("chaos", result);
  console.log(`-> ${path}`);
  return result.violations.length === 0 && result.crashes.length === 0 && result.leftovers.length === 0;
}

process.on("SIGINT", () => {
  console.log("chaos: interrupted, stopping the stack");
  ctx.interrupted = true;
  ctx.shuttingDown = true;
});

let ok = false;
try {
  ok = await main();
} catch (err) {
  console.error(`chaos: ${err.stack ?? err}`);
  if (ctx.vigil?.exitedAt === null) {
    await runCli(["down"], ctx.stack.file, 60_000);
    if (ctx.vigil.exitedAt === null) process.kill(ctx.vigil.pid, "SIGKILL");
  }
  for (const p of scanMarked(ctx.marker)) signalSeen(p, "SIGKILL", ctx.marker);
} finally {
  ctx.attacks.release(Infinity);
  if (opts.keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
