// SPEC §5: after `vigil up` exits, nothing it started is still running, whatever the children did to
// their session, group or parent. Each case runs with and without the per-service cgroup.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRunning, useStacks, waitUntil, type Stack } from "../support/stack.js";

const stack = useStacks();

async function pidsIn(s: Stack, file: string, count: number): Promise<number[]> {
  let pids: number[] = [];
  await waitUntil(async () => {
    const text = await readFile(join(s.dir, file), "utf8").catch(() => "");
    pids = text.split(/\s+/).filter(Boolean).map(Number);
    return pids.length >= count;
  }, `${count} pids in ${file}`);
  return pids;
}

/** `vigil down`, then: up has exited 0 by the time down returns, and nothing of the stack is left. */
async function downLeavesNothing(s: Stack, watched: readonly number[]): Promise<void> {
  const down = await s.run(["down"]);
  expect(down.code, down.stderr).toBe(0);
  expect(isRunning(s.up!.pid!), "vigil up still runs after down returned").toBe(false);
  expect(await s.exited()).toBe(0);
  for (const pid of watched) expect(isRunning(pid), `pid ${pid} left behind`).toBe(false);
  expect(s.leftovers()).toEqual([]);
}

for (const cgroup of ["on", "off"] as const) {
  describe(`no process left behind (cgroup ${cgroup})`, () => {
    const env = { VIGIL_CGROUP: cgroup };

    it("ends a descendant that left the process group with setsid, and up exits", async () => {
      const s = await stack(`
version: 1
services:
  esc:
    command: sh -c 'setsid sleep 3111 & echo $! > escaped.pid; exec sleep 1111'
    stop: { timeout: 2s }
`);
      s.start([], env);
      await s.waitFor("esc", (x) => x.state === "running", "to run");
      const [escaped] = await pidsIn(s, "escaped.pid", 1);
      expect(isRunning(escaped!)).toBe(true);
      await downLeavesNothing(s, [escaped!]);
    });

    it("ends an exec probe still running at shutdown, with what it started, and up exits", async () => {
      // ($$$$ is the shell's $$: the manifest reads $$ as a literal $)
      const s = await stack(`
version: 1
services:
  probed:
    command: sleep 1333
    probes: { liveness: { exec: "sh -c 'echo $$$$ >> probe.pids; sleep 3333 & echo $! >> probe.pids; wait'", interval: 1s, timeout: 60s } }
`);
      s.start([], env);
      const pids = await pidsIn(s, "probe.pids", 2);
      expect(pids.every(isRunning)).toBe(true);
      await downLeavesNothing(s, pids);
    });

    it("ends a double-forked daemon, and warns that it daemonized", async () => {
      const s = await stack(`
version: 1
services:
  daemon:
    command: sh -c 'sh -c "setsid sleep 3222 & echo \\$! > daemon.pid"; sleep 0.2; exit 0'
    restart: { policy: on-failure }
  bystander:
    command: sleep 1222
`);
      s.start([], env);
      const [daemon] = await pidsIn(s, "daemon.pid", 1);
      await s.waitFor("daemon", (x) => x.state === "exited", "to exit 0");
      await waitUntil(() => !isRunning(daemon!), "the daemon to be ended");
      expect(s.stderr).toMatch(new RegExp(`daemon: .*pid ${daemon} \\(sleep 3222\\)`));
      expect(s.stderr).toMatch(/foreground/);
      await downLeavesNothing(s, [daemon!]);
    });

    it("leaves nothing of a restart storm whose every run starts 20 setsid children", async () => {
      const s = await stack(`
version: 1
services:
  storm:
    command: sh -c 'for i in $(seq 20); do setsid sleep 3333 & echo $! >> storm.pids; done; sleep 0.1; exit 1'
    restart: { policy: always, backoff: { initial: 50ms, factor: 1 }, max_restarts: 1000 }
`);
      s.start([], env);
      // each exit sweeps for the run's daemons: with the portable table (ps) that takes a while on a busy machine
      await s.waitFor("storm", (x) => x.restarts >= 5, "to restart 5 times", 60_000);
      const pids = await pidsIn(s, "storm.pids", 100);
      // the runs that are over have left nothing; only the current one may still be starting its children
      const alive = pids.filter(isRunning);
      expect(alive.length).toBeLessThanOrEqual(20);
      await downLeavesNothing(s, await pidsIn(s, "storm.pids", pids.length));
    }, 90_000);

    it("ends a daemon its SIGKILLed predecessor left behind, before starting anew", async () => {
      const s = await stack(`
version: 1
services:
  keeper:
    command: sh -c 'sh -c "setsid sleep 3666 & echo \\$! > daemon.pid"; exec sleep 1666'
`);
      const first = s.start([], env);
      const old = await s.waitFor("keeper", (x) => x.state === "running", "to run");
      const [daemon] = await pidsIn(s, "daemon.pid", 1);
      await waitUntil(async () => (await readFile(join(s.stateDir, "children.json"), "utf8").catch(() => "")).includes(String(old.pid)), "child recorded");
      first.kill("SIGKILL");
      await s.exited();
      expect(isRunning(daemon!)).toBe(true);
      await rm(join(s.dir, "daemon.pid"));
      s.start([], env);
      await s.waitFor("keeper", (x) => x.state === "running" && x.pid !== old.pid, "to run anew");
      expect(isRunning(old.pid!)).toBe(false);
      expect(isRunning(daemon!)).toBe(false);
      const [fresh] = await pidsIn(s, "daemon.pid", 1);
      await downLeavesNothing(s, [fresh!]);
    });
  });
}

describe("vigil up whose output reader goes away", () => {
  it("keeps supervising when stdout is closed (vigil up | head -3), and a later down ends everything", async () => {
    const s = await stack(`
version: 1
services:
  chatty:
    command: sh -c 'while true; do echo tick; sleep 0.02; done'
  sleeper:
    command: sh -c 'setsid sleep 3444 & echo $! > sleeper.pid; exec sleep 1444'
`);
    const up = s.start();
    // like head -3: read three lines, then close the pipe
    await waitUntil(() => s.stdout.split("\n").length > 3, "three lines of output");
    up.stdout!.destroy();
    const chatty = await s.waitFor("chatty", (x) => x.state === "running", "to run");
    // the supervisor outlives many more writes to the closed pipe
    const logFile = join(s.stateDir, "logs", "chatty.log");
    const linesNow = (await readFile(logFile, "utf8")).split("\n").length;
    await waitUntil(async () => (await readFile(logFile, "utf8")).split("\n").length > linesNow + 20, "20 more lines in chatty's log");
    expect(isRunning(up.pid!)).toBe(true);
    const status = await s.run(["status", "--json"]);
    expect(status.code).toBe(0);
    expect((await s.service("chatty"))?.pid).toBe(chatty.pid);
    const [sleeper] = await pidsIn(s, "sleeper.pid", 1);
    await downLeavesNothing(s, [chatty.pid!, sleeper!]);
  });
});

describe("Ctrl-C on vigil up | grep", () => {
  it("stops everything when the reader died first (both got SIGINT)", async () => {
    const s = await stack(`
version: 1
services:
  chatty:
    command: sh -c 'while true; do echo tick; sleep 0.02; done'
  sleeper:
    command: sh -c 'setsid sleep 3555 & echo $! > sleeper.pid; exec sleep 1555'
`);
    const up = s.start();
    await waitUntil(() => s.stdout.includes("tick"), "output");
    const [sleeper] = await pidsIn(s, "sleeper.pid", 1);
    up.stdout!.destroy();
    up.kill("SIGINT");
    expect(await s.exited()).toBe(0);
    expect(isRunning(sleeper!)).toBe(false);
    expect(s.leftovers()).toEqual([]);
  });
});
