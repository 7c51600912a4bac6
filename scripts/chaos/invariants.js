// The promises checked after every step. Status and /proc are read at different moments, so a service
// is judged only when two status reads around the /proc scan agree on it; what could still be a race of
// the reading (a running service with no process yet reaped) must persist before it counts.
import { loadavg } from "node:os";
import { controlRequest } from "./control.js";
import { scanMarked } from "./proc.js";

export const LATENCY_LIMIT_MS = 1_000;
const STATUS_TIMEOUT_MS = 5_000;
/** a running service with no live process must look so this long before it is a violation */
const EMPTY_RUNNING_MS = 2_000;
const NO_JOB_STATES = new Set(["stopped", "exited", "fatal", "backoff"]);

const short = (token) => (token ? token.slice(0, 8) : "none");
const describeJobs = (jobs) =>
  [...jobs].map(([token, procs]) => `${short(token)} (pids ${procs.map((p) => `${p.pid}${p.state === "T" ? " stopped" : ""}`).join(", ")})`).join("; ");

/** the same spawn in both reads: state, pid, restarts and start time */
const sameSpawn = (a, b) => a.state === b.state && a.pid === b.pid && a.restarts === b.restarts && a.started_at === b.started_at;

/** one status read, timed; null (and a violation unless vigil up is gone) when there is no answer */
export async function statusTimed(ctx) {
  const r = await controlRequest(ctx.stateDir, { cmd: "status" }, STATUS_TIMEOUT_MS);
  if (ctx.vigil.exitedAt !== null) return null;
  ctx.latencies.push(r.ms);
  const load = loadavg().map((l) => l.toFixed(1)).join(" ");
  if (!r.ok) {
    ctx.violation("answer", `vigil status got no answer after ${r.ms.toFixed(0)} ms: ${r.error} (load ${load})`, { key: `answer@${ctx.stepIndex}` });
    return null;
  }
  if (r.ms > LATENCY_LIMIT_MS) {
    ctx.violation("answer", `vigil status answered in ${r.ms.toFixed(0)} ms, over ${LATENCY_LIMIT_MS} ms (load ${load})`, { key: `latency@${ctx.stepIndex}` });
  }
  return r.data;
}

export async function check(ctx) {
  const a = await statusTimed(ctx);
  if (a === null) return;
  const scan = scanMarked(ctx.marker);
  const b = await statusTimed(ctx);
  if (b === null) return;
  ctx.lastStatus = b;
  ctx.lastScan = scan;
  ctx.checks++;
  judgeJobs(ctx, a, b, scan);
  judgeExpectations(ctx, b, scan);
  judgeConfigRestarts(ctx, b);
}

/** service name → token → its live processes */
function jobsByService(scan) {
  const byName = new Map();
  for (const p of scan) {
    if (p.service === null) continue;
    if (!byName.has(p.service)) byName.set(p.service, new Map());
    const jobs = byName.get(p.service);
    if (!jobs.has(p.token)) jobs.set(p.token, []);
    jobs.get(p.token).push(p);
  }
  return byName;
}

function judgeJobs(ctx, a, b, scan) {
  const byName = jobsByService(scan);
  const inA = new Map(a.services.map((s) => [s.name, s]));
  const inB = new Map(b.services.map((s) => [s.name, s]));
  for (const s of b.services) {
    const before = inA.get(s.name);
    if (!before || !sameSpawn(before, s)) {
      ctx.judged.raced++;
      continue;
    }
    ctx.judged.services++;
    const jobs = byName.get(s.name) ?? new Map();
    const where = `${s.name} (${s.state}, pid ${s.pid}, restarts ${s.restarts})`;
    const key = `${s.name}:${[...jobs.keys()].sort().join(",")}`;
    if (NO_JOB_STATES.has(s.state)) {
      if (jobs.size > 0) ctx.violation("one-job", `${where} has ${jobs.size} live job(s), expected none: ${describeJobs(jobs)}`, { key, service: s.name });
    } else if (jobs.size > 1) {
      ctx.violation("one-job", `${where} has ${jobs.size} live jobs, expected ${s.state === "running" ? "exactly one" : "at most one"}: ${describeJobs(jobs)}`, {
        key,
        service: s.name,
      });
    }
    if (s.state === "running" && jobs.size === 0) judgeEmptyRunning(ctx, s, where);
    else ctx.emptyRunning.delete(s.name);
  }
  for (const [name, jobs] of byName) {
    if (inA.has(name) || inB.has(name)) continue;
    const what = ctx.stack.removed.has(name) ? "removed service" : "service unknown to the supervisor";
    ctx.violation("removed", `${what} ${name} is gone from the status but still has ${describeJobs(jobs)}`, { key: `gone:${name}:${[...jobs.keys()].join(",")}`, service: name });
  }
}

/** running with no live process: vigil may not have read the exit yet, so it must persist to count */
function judgeEmptyRunning(ctx, s, where) {
  const seen = ctx.emptyRunning.get(s.name);
  const id = `${s.pid}/${s.restarts}/${s.started_at}`;
  if (!seen || seen.id !== id) return void ctx.emptyRunning.set(s.name, { id, sinceMs: ctx.nowMs() });
  const forMs = ctx.nowMs() - seen.sinceMs;
  if (forMs >= EMPTY_RUNNING_MS) {
    ctx.violation("one-job", `${where} shows running but no process of it has lived for ${(forMs / 1000).toFixed(1)} s`, { key: `empty:${s.name}:${id}`, service: s.name });
  }
}

/**
 * The expectations steps left behind (a stopped beater is restarted, a removed service goes, a held one
 * stays stopped, …). judge() says "met" (done), "fine" (holds for now, look again), or what is wrong,
 * which is a violation once the expectation's deadline has passed.
 */
function judgeExpectations(ctx, b, scan) {
  const inB = new Map(b.services.map((s) => [s.name, s]));
  const live = new Set(scan.map((p) => `${p.pid}/${p.startTime}`));
  const keep = [];
  for (const e of ctx.expectations) {
    const verdict = e.judge({ status: inB.get(e.name) ?? null, live });
    if (verdict === "met") {
      ctx.judged.expectationsMet[e.invariant] = (ctx.judged.expectationsMet[e.invariant] ?? 0) + 1;
      continue;
    }
    if (verdict === "fine" || ctx.nowMs() < e.deadlineMs) {
      keep.push(e);
      continue;
    }
    ctx.violation(e.invariant, verdict, { key: `${e.invariant}:${e.name}:${e.id}`, service: e.name });
    e.onMissed?.();
  }
  ctx.expectations = keep;
}

/**
 * A restart with reason config is right only for a service whose spawn definition an edit changed before
 * that exit; any other is an edit that restarted what it did not change.
 */
function judgeConfigRestarts(ctx, b) {
  for (const s of b.services) {
    const exit = s.last_exit;
    if (exit?.reason !== "config" || ctx.stack.removed.has(s.name)) continue;
    const key = `${s.name}@${exit.at}`;
    if (ctx.configExitsSeen.has(key)) continue;
    ctx.configExitsSeen.add(key);
    const at = Date.parse(exit.at);
    const edits = ctx.spawnEdits.get(s.name) ?? [];
    if (!edits.some((t) => t <= at)) {
      ctx.violation("edit-scope", `${s.name} was restarted with reason config at ${exit.at}, but no edit changed its definition`, { key, service: s.name });
    }
  }
}
