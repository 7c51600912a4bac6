// The chaos steps: what one step does to the stack, chosen by weight. Each returns a line saying what it
// did (or null when it found nothing to act on) and may leave expectations for the checks that follow.
import { setTimeout as sleep } from "node:timers/promises";
import { controlRequest, runCli } from "./control.js";
import { commandLine, scanMarked, signalSeen } from "./proc.js";
import { ADDABLE, BAD_EDITS } from "./stack.js";

export const STEP_WEIGHTS = {
  "kill-main": 16,
  "kill-descendant": 8,
  "kill-job": 4,
  "signal-and-command": 4,
  "heartbeat-garbage": 3,
  "heartbeat-long-line": 2,
  "heartbeat-forged": 3,
  "heartbeat-flood": 3,
  "heartbeat-connections": 2,
  "heartbeat-half-open": 2,
  "control-garbage": 2,
  "control-long-line": 1,
  "control-flood": 2,
  "control-connections": 1,
  "control-half-open": 2,
  "edit-command": 6,
  "edit-supervision": 3,
  "edit-burst": 2,
  "add-service": 3,
  "remove-service": 3,
  "bad-edit": 3,
  "cli-restart": 5,
  "cli-stop": 4,
  "cli-start": 4,
  "cli-reload": 2,
  sighup: 1,
  "cli-status": 2,
  pause: 3,
};

/** after the stop timeout, what ends a job (SIGKILL and its wait), plus room for a loaded machine */
const SETTLE_MS = 3_000 + 7_000;
/** how long a save takes to be read and applied (the watcher's debounce, a loaded machine) */
const APPLY_MS = 3_000;
const MAX_HELD = 5;
/** floods running at once, besides the steps */
const MAX_FLOODS = 2;
const HELD_STATES = new Set(["stopped", "fatal", "exited"]);

const signalOf = (r) => r.weighted({ SIGKILL: 4, SIGTERM: 4, SIGSTOP: 2 });

/** names the manifest has and the last status showed */
function liveNames(ctx) {
  return (ctx.lastStatus?.services ?? []).filter((s) => ctx.stack.services.has(s.name));
}

async function signalStep(ctx, main) {
  const r = ctx.random;
  const scan = scanMarked(ctx.marker);
  const mains = new Map((ctx.lastStatus?.services ?? []).map((s) => [s.name, s.pid]));
  const candidates = scan.filter((p) => p.service !== null && (mains.get(p.service) === p.pid) === main);
  if (candidates.length === 0) return null;
  const proc = r.pick(candidates);
  const signal = signalOf(r);
  const command = commandLine(proc.pid);
  if (!signalSeen(proc, signal, ctx.marker)) return null;
  const what = `${signal} ${main ? "main" : "descendant"} ${proc.pid} of ${proc.service} (${command})`;
  if (signal === "SIGSTOP") stopped(ctx, proc, main);
  return what;
}

/**
 * After a SIGSTOP: a main process that vigil watches (heartbeats, log output) must be gone in time;
 * any other is let go on again a few seconds later, since nothing in vigil can notice it.
 */
function stopped(ctx, proc, main) {
  const watch = main ? ctx.stack.watchOf(proc.service) : null;
  if (watch === null) {
    ctx.paused.push({ proc, resumeAtMs: ctx.nowMs() + ctx.random.int(1_000, 8_000) });
    return;
  }
  const status = ctx.lastStatus.services.find((s) => s.name === proc.service);
  const ageMs = status?.started_at ? Date.now() - Date.parse(status.started_at) : 0;
  const waitMs = Math.max(0, watch.graceMs - ageMs) + watch.detectMs + ctx.stack.stopTimeoutMs(proc.service) + SETTLE_MS;
  ctx.expectations.push({
    id: `${proc.pid}/${proc.startTime}`,
    invariant: "stopped",
    name: proc.service,
    deadlineMs: ctx.nowMs() + waitMs,
    judge: ({ live }) =>
      live.has(`${proc.pid}/${proc.startTime}`) ? `${proc.service}: its main process ${proc.pid} was SIGSTOPped and is still there ${(waitMs / 1000).toFixed(1)} s later` : "met",
    onMissed: () => signalSeen(proc, "SIGCONT", ctx.marker),
  });
}

/** every process of one service's current job at once: SIGKILL (an OOM kill of the group) or SIGSTOP (a freeze) */
async function killJob(ctx) {
  const running = liveNames(ctx).filter((s) => s.state === "running");
  if (running.length === 0) return null;
  const service = ctx.random.pick(running);
  const job = scanMarked(ctx.marker).filter((p) => p.service === service.name);
  if (job.length === 0) return null;
  const signal = ctx.random.pick(["SIGKILL", "SIGSTOP"]);
  const hit = job.filter((p) => signalSeen(p, signal, ctx.marker));
  if (signal === "SIGSTOP") for (const p of hit) stopped(ctx, p, p.pid === service.pid);
  return `${signal} to all ${hit.length} processes of ${service.name}`;
}

/** a signal to a main process and, at the same moment, a restart or a stop of its service: the two race */
async function signalAndCommand(ctx) {
  const running = liveNames(ctx).filter((s) => s.state === "running" && !ctx.held.has(s.name));
  if (running.length === 0) return null;
  const service = ctx.random.pick(running);
  const main = scanMarked(ctx.marker).find((p) => p.pid === service.pid && p.service === service.name);
  if (!main) return null;
  const signal = ctx.random.pick(["SIGKILL", "SIGTERM"]);
  const cmd = ctx.random.chance(0.7) || ctx.held.size >= MAX_HELD ? "restart" : "stop";
  if (!signalSeen(main, signal, ctx.marker)) return null;
  const r = await controlRequest(ctx.stateDir, { cmd, names: [service.name] }, 10_000);
  if (!r.ok) ctx.violation("cli", `${cmd} ${service.name} right after ${signal} of its main process was refused: ${r.error}`, { key: `cli@${ctx.stepIndex}` });
  else if (cmd === "stop") hold(ctx, service.name);
  return `${signal} main ${main.pid} of ${service.name}, then ${cmd} at once`;
}

/** vigil stop NAME was accepted: from now on the service must stay down until a start */
function hold(ctx, name) {
  const waitMs = ctx.stack.stopTimeoutMs(name) + SETTLE_MS;
  const since = ctx.nowMs();
  const held = {
    id: `held@${ctx.stepIndex}`,
    invariant: "held",
    name,
    deadlineMs: since + waitMs,
    judge: ({ status }) => {
      if (status === null || !ctx.held.has(name)) return "met";
      // held down: no process, and none to come (a fatal or exited one was down already)
      return HELD_STATES.has(status.state) ? "fine" : `${name} was stopped with vigil stop ${((ctx.nowMs() - since) / 1000).toFixed(1)} s ago but is ${status.state} (pid ${status.pid})`;
    },
  };
  ctx.held.set(name, held);
  ctx.expectations.push(held);
}

/** the edit-applied expectation of a command edit: a service running before it runs a new pid soon after */
function expectRestart(ctx, service, before) {
  if (before?.state !== "running") return;
  const waitMs = APPLY_MS + ctx.stack.stopTimeoutMs(service.name) + SETTLE_MS;
  ctx.expectations.push({
    id: `edit-${service.rev}`,
    invariant: "edit-applied",
    name: service.name,
    deadlineMs: ctx.nowMs() + waitMs,
    judge: ({ status }) =>
      status === null || status.pid !== before.pid ? "met" : `${service.name}: its command changed, but it still runs pid ${before.pid} ${(waitMs / 1000).toFixed(0)} s later`,
  });
}

/** Saves the manifest; the services whose spawn definition changed are noted before the save. */
function save(ctx, changed = []) {
  for (const name of changed) {
    if (!ctx.spawnEdits.has(name)) ctx.spawnEdits.set(name, []);
    ctx.spawnEdits.get(name).push(Date.now());
  }
  ctx.stack.write();
}

async function waitConfigError(ctx, present, ms) {
  const until = ctx.nowMs() + ms;
  while (ctx.nowMs() < until) {
    const r = await controlRequest(ctx.stateDir, { cmd: "status" }, 5_000);
    if (r.ok && (r.data.supervisor.config_error !== null) === present) return true;
    await sleep(100);
  }
  return false;
}

/** A flood goes on while the check after its step asks for the status: the answer must still come in time. */
async function background(ctx, flood, what) {
  if (ctx.attacks.floods.size >= MAX_FLOODS) {
    await flood;
    return `${what} (waited for)`;
  }
  ctx.attacks.floods.add(flood);
  void flood.finally(() => ctx.attacks.floods.delete(flood));
  return what;
}

async function cli(ctx, args, onDone = () => undefined) {
  const r = await runCli(args, ctx.stack.file);
  if (r.code === 0) onDone();
  else ctx.violation("cli", `vigil ${args.join(" ")} exited ${r.code}: ${r.stderr.split("\n")[0]}`, { key: `cli@${ctx.stepIndex}` });
  return `vigil ${args.join(" ")} -> ${r.code} in ${r.ms.toFixed(0)} ms`;
}

export const STEPS = {
  "kill-main": (ctx) => signalStep(ctx, true),
  "kill-descendant": (ctx) => signalStep(ctx, false),
  "kill-job": killJob,
  "signal-and-command": signalAndCommand,
  "heartbeat-garbage": async (ctx) => (await ctx.attacks.heartbeatGarbage(), "random bytes to heartbeat.sock"),
  "heartbeat-long-line": async (ctx) => (await ctx.attacks.longLine("heartbeat"), "over-long line to heartbeat.sock"),
  "heartbeat-forged": async (ctx) => (await ctx.attacks.forged([...ctx.stack.services.keys()]), "forged and broken messages to heartbeat.sock"),
  "heartbeat-flood": async (ctx) => background(ctx, ctx.attacks.heartbeatFlood([...ctx.stack.services.keys()]), "flood of lines to heartbeat.sock"),
  "heartbeat-connections": async (ctx) =>
    background(ctx, ctx.attacks.connectionFlood("heartbeat", [...ctx.stack.services.keys()]), "flood of connections to heartbeat.sock"),
  "heartbeat-half-open": async (ctx) => (ctx.attacks.halfOpen("heartbeat", [...ctx.stack.services.keys()], ctx.nowMs()) ? "half-open connection held on heartbeat.sock" : null),
  "control-garbage": async (ctx) => (await ctx.attacks.controlGarbage(), "random bytes to control.sock"),
  "control-long-line": async (ctx) => (await ctx.attacks.longLine("control"), "over-long line to control.sock"),
  "control-flood": async (ctx) => background(ctx, ctx.attacks.controlFlood(), "flood of bad requests to control.sock"),
  "control-connections": async (ctx) => background(ctx, ctx.attacks.connectionFlood("control", []), "flood of connections to control.sock"),
  "control-half-open": async (ctx) => (ctx.attacks.halfOpen("control", [], ctx.nowMs()) ? "half-open connection held on control.sock" : null),

  async "edit-command"(ctx) {
    const service = ctx.random.pick([...ctx.stack.services.values()]);
    service.rev++;
    const before = liveNames(ctx).find((s) => s.name === service.name);
    save(ctx, [service.name]);
    expectRestart(ctx, service, before);
    return `edited the command of ${service.name} (rev ${service.rev})`;
  },

  /** several saves inside the watcher's debounce: every change must be applied, none lost */
  async "edit-burst"(ctx) {
    const all = [...ctx.stack.services.values()];
    const edited = Array.from({ length: ctx.random.int(2, 4) }, () => ctx.random.pick(all));
    for (const service of edited) {
      service.rev++;
      const before = liveNames(ctx).find((s) => s.name === service.name);
      save(ctx, [service.name]);
      expectRestart(ctx, service, before);
      await sleep(ctx.random.int(0, 60));
    }
    return `edited the commands of ${edited.map((s) => s.name).join(", ")} in quick saves`;
  },

  async "edit-supervision"(ctx) {
    const service = ctx.random.pick([...ctx.stack.services.values()]);
    const current = ctx.stack.stopTimeoutMs(service.name);
    service.stopMs = ctx.random.pick([1_000, 2_000, 3_000, 4_000].filter((ms) => ms !== current));
    save(ctx);
    return `edited stop.timeout of ${service.name} to ${service.stopMs} ms (no restart expected)`;
  },

  async "add-service"(ctx) {
    if (ctx.stack.services.size >= ctx.serviceCount + 5) return null;
    const service = ctx.stack.add(ctx.random.pick(ADDABLE));
    save(ctx);
    ctx.expectations.push({
      id: "added",
      invariant: "edit-applied",
      name: service.name,
      deadlineMs: ctx.nowMs() + APPLY_MS + 7_000,
      judge: ({ status }) => (status !== null ? "met" : `${service.name} was added to the manifest but is not in the status 10 s later`),
    });
    return `added ${service.name}`;
  },

  async "remove-service"(ctx) {
    if (ctx.stack.services.size <= ctx.serviceCount - 5) return null;
    const targets = ctx.stack.targets();
    const candidates = [...ctx.stack.services.keys()].filter((n) => !targets.has(n));
    if (candidates.length === 0) return null;
    const name = ctx.random.pick(candidates);
    const waitMs = APPLY_MS + ctx.stack.stopTimeoutMs(name) + SETTLE_MS;
    ctx.stack.remove(name);
    ctx.held.delete(name);
    save(ctx);
    ctx.expectations.push({
      id: "removed",
      invariant: "removed",
      name,
      deadlineMs: ctx.nowMs() + waitMs,
      judge: ({ status }) => (status === null ? "met" : `${name} was removed from the manifest but is still in the status (${status.state}) ${(waitMs / 1000).toFixed(0)} s later`),
    });
    return `removed ${name}`;
  },

  async "bad-edit"(ctx) {
    const bad = ctx.random.pick(BAD_EDITS);
    const name = ctx.random.pick([...ctx.stack.services.keys()]);
    ctx.stack.write(bad, name);
    if (!(await waitConfigError(ctx, true, 5_000))) {
      ctx.violation("bad-edit", `a bad edit (${bad} in ${name}) did not show in config_error within 5 s`, { key: `bad@${ctx.stepIndex}` });
    }
    ctx.stack.write();
    if (!(await waitConfigError(ctx, false, 5_000))) {
      ctx.violation("bad-edit", `the fix of a bad edit (${bad} in ${name}) did not clear config_error within 5 s`, { key: `fix@${ctx.stepIndex}` });
    }
    return `bad edit (${bad} in ${name}), then the fix`;
  },

  async "cli-restart"(ctx) {
    const candidates = liveNames(ctx).filter((s) => !ctx.held.has(s.name));
    if (candidates.length === 0) return null;
    const names = new Set(Array.from({ length: ctx.random.chance(0.7) ? 1 : ctx.random.int(2, 4) }, () => ctx.random.pick(candidates).name));
    return cli(ctx, ["restart", ...names]);
  },

  async "cli-stop"(ctx) {
    const candidates = liveNames(ctx).filter((s) => !ctx.held.has(s.name));
    if (candidates.length === 0 || ctx.held.size >= MAX_HELD) return null;
    const name = ctx.random.pick(candidates).name;
    return cli(ctx, ["stop", name], () => hold(ctx, name));
  },

  async "cli-start"(ctx) {
    const held = [...ctx.held.keys()];
    const down = liveNames(ctx).filter((s) => s.state === "fatal" || s.state === "exited").map((s) => s.name);
    const name = held.length > 0 && ctx.random.chance(0.8) ? ctx.random.pick(held) : down.length > 0 ? ctx.random.pick(down) : null;
    if (name === null) return null;
    ctx.held.delete(name);
    return cli(ctx, ["start", name]);
  },

  "cli-reload": (ctx) => cli(ctx, ["reload"]),

  async sighup(ctx) {
    if (ctx.vigil.exitedAt !== null) return null;
    process.kill(ctx.vigil.pid, "SIGHUP");
    return `SIGHUP to vigil up (${ctx.vigil.pid})`;
  },

  async "cli-status"(ctx) {
    const r = await runCli(["status", "--json"], ctx.stack.file);
    let parsed = false;
    try {
      parsed = Array.isArray(JSON.parse(r.stdout).services);
    } catch {
      // counted below
    }
    if (r.code !== 0 || !parsed) ctx.violation("cli", `vigil status --json exited ${r.code}${parsed ? "" : " without a status document"}: ${r.stderr.split("\n")[0]}`, { key: `cli@${ctx.stepIndex}` });
    return `vigil status --json -> ${r.code} in ${r.ms.toFixed(0)} ms`;
  },

  pause: async () => "nothing (a check alone)",
};
