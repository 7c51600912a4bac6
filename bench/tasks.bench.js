// In-flight tasks in the decision function alone (no sockets): what a task message costs next to a beat,
// how many timers the tasks of one instance set (one for all, not one each), and what a timer firing over
// 1,000 open tasks costs.
import { performance } from "node:perf_hooks";
import { ROOT, round, saveResult, table } from "./lib.js";

const OPEN = 1000;
const MESSAGES = 200_000;
const FIRES = 2000;

export async function run() {
  const [{ parseManifest }, { initialState }, { step }, { parseChildMessage }] = await Promise.all([
    import(`${ROOT}/dist/manifest/load.js`),
    import(`${ROOT}/dist/core/stack/state.js`),
    import(`${ROOT}/dist/core/stack/step.js`),
    import(`${ROOT}/dist/core/heartbeat-message.js`),
  ]);
  const manifest = parseManifest(
    "version: 1\nservices:\n  agent:\n    command: agent\n    heartbeat: { via: socket, interval: 1h }\n    tasks: { stale_after: 5m, timeout: 30m }\n",
    "/bench/supervisor.yaml",
    { readFile: () => "" },
  );
  const state = initialState(manifest, 0);
  let nowMs = 0;
  const ctx = () => ({ nowMs, wallMs: 1_700_000_000_000 + nowMs, random: () => 0.5 });
  step(state, { type: "Started", pid: 1 }, ctx());
  step(state, { type: "ChildSpawned", id: "agent#0", incarnation: 1, pid: 100, token: "tok" }, ctx());
  const message = (value) => ({ type: "MessageReceived", message: parseChildMessage({ service: "agent", token: "tok", ...value }) });

  let timers = 0;
  const count = (effects) => {
    for (const e of effects) if (e.type === "SetTimer" && e.key.kind === "task") timers++;
  };
  for (let i = 0; i < OPEN; i++) {
    nowMs += 1;
    count(step(state, message({ type: "task", id: `t${i}`, event: "start" }), ctx()).effects);
  }
  const startTimers = timers;

  const progress = Array.from({ length: OPEN }, (_, i) => message({ type: "task", id: `t${i}`, event: "progress" }));
  timers = 0;
  let t0 = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    nowMs += 0.01;
    count(step(state, progress[i % OPEN], ctx()).effects);
  }
  const progressNs = ((performance.now() - t0) * 1e6) / MESSAGES;
  const progressTimers = timers;

  const beat = message({ type: "beat", data: { queue: 3 } });
  t0 = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    nowMs += 0.01;
    step(state, beat, ctx());
  }
  const beatNs = ((performance.now() - t0) * 1e6) / MESSAGES;

  // the timer over 1,000 open tasks, none due: a scan and a re-arm
  const fire = { type: "TimerFired", key: { id: "agent#0", incarnation: 1, kind: "task" } };
  t0 = performance.now();
  for (let i = 0; i < FIRES; i++) step(state, fire, ctx());
  const fireUs = ((performance.now() - t0) * 1e3) / FIRES;

  const result = {
    open_tasks: OPEN,
    timers_set_by_starts: startTimers,
    timers_set_by_progress: progressTimers,
    progress_ns: round(progressNs, 0),
    beat_ns: round(beatNs, 0),
    timer_scan_us: round(fireUs, 1),
  };
  console.log(
    table([
      ["open tasks", "timers set (1,000 starts)", `timers set (${MESSAGES} progress)`, "ns / progress", "ns / beat", "µs / timer over 1,000"],
      [OPEN, startTimers, progressTimers, result.progress_ns, result.beat_ns, result.timer_scan_us],
    ]),
  );
  console.log(`saved ${saveResult("tasks", result)}`);
}
