import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRunning, useStacks, vigil, waitUntil } from "../support/stack.js";
import { nativeSpawn } from "../../src/runtime/process/native-spawn.js";

const stack = useStacks();

/** one service that sleeps: a stack whose only work is being there */
const ONE_SLEEPER = `
version: 1
services:
  web:
    command: [sleep, "600"]
`;

describe("vigil up", () => {
  it("leaves an on-failure service that exits 0 in state exited, without restarting it", async () => {
    const s = await stack(`
version: 1
services:
  job:
    command: [sh, -c, "echo done; exit 0"]
    restart: { policy: on-failure }
`);
    s.start();
    const job = await s.waitFor("job", (x) => x.state === "exited", "to exit");
    expect(job.restarts).toBe(0);
    expect(job.last_exit).toMatchObject({ code: 0, signal: null, reason: "exit" });
    expect(s.stdout).toMatch(/^job \| done$/m);
    const log = await readFile(join(s.stateDir, "logs", "job.log"), "utf8");
    expect(log).toMatch(/Z out done\n$/);
  });

  it("names its process backend in status: /proc on Linux, ps when VIGIL_PROCESS_BACKEND=portable", async () => {
    const s = await stack(ONE_SLEEPER);
    s.start();
    const web = await s.waitFor("web", (x) => x.state === "running" && x.memory_bytes !== null, "to run and be sampled");
    expect(web.memory_bytes).toBeGreaterThan(0);
    const doc = await s.statusFile();
    expect(doc?.supervisor.process_backend).toBe(process.env["VIGIL_PROCESS_BACKEND"] === "portable" ? "portable" : "proc");
    // (the native spawn is built wherever the suite runs in CI: test/runtime/process/child.test.ts)
    expect(doc?.supervisor.spawn).toBe(nativeSpawn() ? "native" : "child_process");
  });

  it("refuses a VIGIL_PROCESS_BACKEND it does not have in one line, exit 1, making nothing", async () => {
    const s = await stack(ONE_SLEEPER);
    const result = await vigil(["up"], s.dir, 20_000, { VIGIL_PROCESS_BACKEND: "kvm" });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('vigil: VIGIL_PROCESS_BACKEND must be proc or portable, not "kvm"\n');
    expect(existsSync(s.stateDir)).toBe(false);
  });

  it("starts services after the ones they depend on", async () => {
    // each service appends its name when started; b and c wait for a, d waits for c
    const s = await stack(`
version: 1
services:
  d:
    command: sh -c 'echo d >> order.txt; exec sleep 60'
    depends_on: [c]
  c:
    command: sh -c 'sleep 0.3; echo c >> order.txt; exec sleep 60'
    depends_on: [a]
  a:
    command: sh -c 'echo a >> order.txt; exec sleep 60'
`);
    s.start();
    await s.waitFor("d", (x) => x.state === "running", "to run");
    await waitUntil(async () => (await readFile(join(s.dir, "order.txt"), "utf8")).split("\n").length >= 4, "order.txt has 3 lines");
    const order = (await readFile(join(s.dir, "order.txt"), "utf8")).trim().split("\n");
    expect(order[0]).toBe("a");
    expect(order.indexOf("d")).toBeGreaterThan(order.indexOf("a"));
    expect(s.stderr.indexOf("c: started")).toBeLessThan(s.stderr.indexOf("d: started"));
  });

  it("stops a child that ignores SIGTERM, and its grandchild, and exits 0 leaving nothing behind", async () => {
    const s = await stack(`
version: 1
services:
  stubborn:
    command: sh -c 'trap "" TERM; sleep 300 & echo $! > grandchild.pid; wait'
    stop: { timeout: 500ms }
  polite:
    command: sleep 300
`);
    const up = s.start();
    const stubborn = await s.waitFor("stubborn", (x) => x.state === "running", "to run");
    const polite = await s.waitFor("polite", (x) => x.state === "running", "to run");
    await waitUntil(async () => (await readFile(join(s.dir, "grandchild.pid"), "utf8").catch(() => "")).trim() !== "", "grandchild pid");
    const grandchild = Number((await readFile(join(s.dir, "grandchild.pid"), "utf8")).trim());
    up.kill("SIGINT");
    expect(await s.exited()).toBe(0);
    for (const pid of [stubborn.pid!, polite.pid!, grandchild]) expect(isRunning(pid), `pid ${pid} still running`).toBe(false);
    expect(s.stderr).toMatch(/stubborn: did not stop within 500ms; killing its process tree/);
    const doc = await s.statusFile();
    expect(doc?.services.map((x) => x.state)).toEqual(["stopped", "stopped"]);
  });

  it("kills at once on a second Ctrl-C", async () => {
    const s = await stack(`
version: 1
services:
  stubborn:
    command: sh -c 'trap "" TERM INT; echo > trapped; sleep 300'
    stop: { timeout: 60s }
`);
    const up = s.start();
    const svc = await s.waitFor("stubborn", (x) => x.state === "running", "to run");
    // running is said at the spawn: under load the shell may not have set its trap yet
    await waitUntil(() => existsSync(join(s.dir, "trapped")), "the shell to ignore SIGTERM");
    up.kill("SIGINT");
    await s.waitFor("stubborn", (x) => x.state === "stopping", "to be stopping");
    up.kill("SIGINT");
    expect(await s.exited()).toBe(0);
    expect(isRunning(svc.pid!)).toBe(false);
  });

  it("handles a command that does not exist by the restart policy, with a clear message", async () => {
    const s = await stack(`
version: 1
services:
  ghost:
    command: ./no-such-program --flag
    restart: { policy: on-failure, backoff: { initial: 50ms }, max_restarts: 2 }
  fine:
    command: sleep 300
`);
    s.start();
    const ghost = await s.waitFor("ghost", (x) => x.state === "fatal", "to become fatal");
    expect(ghost.last_exit?.error).toMatch(/ENOENT/);
    expect(s.stderr).toMatch(/ghost: cannot start: .*ENOENT/);
    expect((await s.service("fine"))?.state).toBe("running");
  });
});
