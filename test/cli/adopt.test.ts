// Services vigil did not start (adopt:), against the real supervisor: a process started outside it with
// a pidfile is watched, its death runs `command` and the new process is tracked; a log file that stops
// growing runs the action, and `then: none` leaves the process (and its pid) alone; stopping vigil
// leaves an adopted process running.
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isRunning, useStacks, vigil, waitUntil } from "../support/stack.js";

const stack = useStacks();
/** processes started outside vigil, and those its commands started: ended by pid after each test */
const outside = new Set<number>();

afterEach(() => {
  for (const pid of outside) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  outside.clear();
});

/** `setsid sleep`: a process in a session of its own, as a daemon vigil did not start */
function daemon(): number {
  const child = spawn("sleep", ["600"], { detached: true, stdio: "ignore" });
  child.unref();
  if (child.pid === undefined) throw new Error("sleep did not start");
  outside.add(child.pid);
  return child.pid;
}

async function pidfile(path: string): Promise<number> {
  return Number((await readFile(path, "utf8")).trim());
}

describe("adopt: processes vigil did not start", () => {
  it("adopts a process by its pidfile, runs command when it dies, and tracks the new pid", async () => {
    const s = await stack(`
version: 1
services:
  daemon:
    adopt: { pidfile: app.pid, poll: 100ms }
    command: ["sh", "-c", "sleep 600 & echo $! > app.pid"]
    restart: { backoff: { initial: 0 } }
`);
    const first = daemon();
    await writeFile(join(s.dir, "app.pid"), `${first}\n`);
    s.start();
    const adopted = await s.waitFor("daemon", (x) => x.state === "running" && x.pid === first, "to adopt the first process");
    expect(adopted.restarts).toBe(0);
    process.kill(first, "SIGKILL");
    const next = await s.waitFor("daemon", (x) => x.state === "running" && x.pid !== null && x.pid !== first, "to track the process its command started");
    const written = await pidfile(join(s.dir, "app.pid"));
    outside.add(written);
    expect(next.pid).toBe(written);
    expect(next.restarts).toBe(1);
    expect(isRunning(written)).toBe(true);

    // stopping vigil leaves what it adopted running
    expect((await s.run(["down"])).code).toBe(0);
    expect(await s.exited()).toBe(0);
    expect(isRunning(written)).toBe(true);
  }, 30_000);

  it("runs the failed action when the log file stops growing, and then: none leaves the pid unchanged", async () => {
    const s = await stack(`
version: 1
services:
  worker:
    adopt: { pidfile: worker.pid, poll: 100ms }
    logs: { file: worker.log, stale_after: 1s }
    actions:
      failed: { run: ["sh", "-c", "echo $VIGIL_EVENT_KIND $VIGIL_EVENT_REASON $VIGIL_EVENT_PID >> action.txt"], then: none }
`);
    const pid = daemon();
    await writeFile(join(s.dir, "worker.pid"), `${pid}\n`);
    await writeFile(join(s.dir, "worker.log"), "started\n");
    s.start();
    await s.waitFor("worker", (x) => x.state === "running" && x.pid === pid, "to adopt the worker");
    let ran = "";
    await waitUntil(async () => {
      ran = await readFile(join(s.dir, "action.txt"), "utf8").catch(() => "");
      return ran !== "";
    }, () => `the action to run; stderr:\n${s.stderr}`);
    expect(ran).toBe(`failed log-stale ${pid}\n`);
    const after = await s.service("worker");
    expect(after).toMatchObject({ state: "running", pid, restarts: 0 });
    expect(isRunning(pid)).toBe(true);
  }, 30_000);

  it("without a command only reports a death: health failed and an alert, then finds the process again once it is back", async () => {
    const s = await stack(`
version: 1
services:
  watched:
    adopt: { pidfile: w.pid, poll: 100ms }
    restart: { backoff: { initial: 100ms, max: 200ms } }
alerts:
  - on: [failed]
    command: ["sh", "-c", "cat >> alerts.jsonl; echo >> alerts.jsonl"]
    cooldown: 0
`);
    const first = daemon();
    await writeFile(join(s.dir, "w.pid"), `${first}\n`);
    s.start();
    await s.waitFor("watched", (x) => x.state === "running" && x.pid === first, "to adopt the process");
    process.kill(first, "SIGKILL");
    const gone = await s.waitFor("watched", (x) => x.pid === null && x.health === "failed", "to be failed");
    expect(gone.last_exit).toMatchObject({ code: null, signal: null });
    await waitUntil(async () => (await readFile(join(s.dir, "alerts.jsonl"), "utf8").catch(() => "")).includes('"event":"failed"'), "a failed alert");
    const second = daemon();
    await writeFile(join(s.dir, "w.pid"), `${second}\n`);
    const back = await s.waitFor("watched", (x) => x.state === "running" && x.pid === second, "to adopt the process started by hand");
    expect(back.health).toBe("unknown");
  }, 30_000);

  it("stops an adopted process on vigil down only with adopt.on_stop: signal", async () => {
    const s = await stack(`
version: 1
services:
  owned:
    adopt: { pidfile: o.pid, poll: 100ms, on_stop: signal }
`);
    const pid = daemon();
    await writeFile(join(s.dir, "o.pid"), `${pid}\n`);
    s.start();
    await s.waitFor("owned", (x) => x.state === "running" && x.pid === pid, "to adopt the process");
    expect((await s.run(["down"])).code).toBe(0);
    expect(await s.exited()).toBe(0);
    // sleep is the test's own child: gone once it is reaped
    await waitUntil(() => !isRunning(pid), "the adopted process to be stopped");
  }, 30_000);

  it("takes heartbeats of an adopted process by the static token of heartbeat.token_env", async () => {
    const s = await stack(`
version: 1
services:
  kurultai:
    adopt: { pidfile: hb.pid }
    heartbeat: { interval: 1h, token_env: KURULTAI_TOKEN }
`);
    const pid = daemon();
    await writeFile(join(s.dir, "hb.pid"), `${pid}\n`);
    s.start([], { KURULTAI_TOKEN: "static-secret" });
    await s.waitFor("kurultai", (x) => x.state === "running" && x.pid === pid, "to adopt the process");
    const env = { VIGIL_SOCKET: undefined, VIGIL_TOKEN: undefined, VIGIL_SERVICE: undefined };
    expect((await vigil(["beat", "--service", "kurultai", "--data", '{"cycle":1}'], s.dir, 20_000, { ...env, KURULTAI_TOKEN: "wrong" })).code).toBe(0);
    expect((await vigil(["beat", "--service", "kurultai", "--data", '{"cycle":2}'], s.dir, 20_000, { ...env, KURULTAI_TOKEN: "static-secret" })).code).toBe(0);
    const beaten = await s.waitFor("kurultai", (x) => x.beats > 0, "to have a beat");
    expect(beaten).toMatchObject({ beats: 1, health: "healthy", last_beat_data: { cycle: 2 }, rejected_messages: 1 });
  }, 30_000);

  it("says in status and the journal when no process matches, and adopts it once one does", async () => {
    const s = await stack(`
version: 1
services:
  matched:
    adopt: { match: "^sh -c sleep 6[0-9][0-9]; : adopt-me$" }
    restart: { backoff: { initial: 100ms, max: 200ms } }
`);
    s.start();
    const missing = await s.waitFor("matched", (x) => x.last_exit?.error?.includes("no running process matches") === true, "to say nothing matches");
    expect(missing.pid).toBeNull();
    const child = spawn("sh", ["-c", "sleep 601; : adopt-me"], { detached: true, stdio: "ignore" });
    child.unref();
    // its sleep with it: the group of its own that detached gave it
    outside.add(-(child.pid ?? 0));
    await s.waitFor("matched", (x) => x.state === "running" && x.pid === child.pid, "to adopt the process once it runs");
  }, 30_000);
});
