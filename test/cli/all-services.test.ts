import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRunning, useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

const STACK = `
version: 1
services:
  db:
    command: sleep 300
  api:
    command: sleep 301
    depends_on: [db]
  worker:
    command: sleep 302
  cron:
    command: sleep 303
    disabled: true
`;

describe("commands on every service, up NAME, disabled services", () => {
  it("restart with no name gives every running service a new pid, and returns once they run", async () => {
    const s = await stack(STACK);
    s.start();
    const before = new Map<string, number>();
    for (const name of ["db", "api", "worker"]) before.set(name, (await s.waitFor(name, (x) => x.state === "running", "to run")).pid!);

    const restart = await s.run(["restart"]);
    expect(restart.code).toBe(0);
    expect(restart.stdout).toBe("vigil: restarted every service\n");
    // already done when the command returns: no waiting here
    const doc = await s.run(["ps", "--json"]);
    const services = (JSON.parse(doc.stdout) as { services: { name: string; state: string; pid: number | null }[] }).services;
    for (const [name, pid] of before) {
      const now = services.find((x) => x.name === name)!;
      expect(now.state).toBe("running");
      expect(now.pid).not.toBe(pid);
      expect(isRunning(pid)).toBe(false);
    }
    // a disabled service is started by name only
    expect(services.find((x) => x.name === "cron")).toMatchObject({ state: "stopped", pid: null });
  });

  it("stop with no name returns once every job is gone; --no-wait returns at once", async () => {
    const s = await stack(STACK);
    s.start();
    const db = await s.waitFor("db", (x) => x.state === "running", "to run");
    const worker = await s.waitFor("worker", (x) => x.state === "running", "to run");

    const stop = await s.run(["stop"]);
    expect(stop.code).toBe(0);
    expect(isRunning(db.pid!)).toBe(false);
    expect(isRunning(worker.pid!)).toBe(false);

    await s.run(["start"]);
    const again = await s.waitFor("db", (x) => x.state === "running", "to run again");
    const noWait = await s.run(["stop", "db", "--no-wait"]);
    expect(noWait.code).toBe(0);
    expect(noWait.stdout).toBe("vigil: stopping db\n");
    await s.waitFor("db", (x) => x.state === "stopped", "to stop");
    expect(isRunning(again.pid!)).toBe(false);
  });

  it("stop waits for a child that takes its time to leave, and --no-wait does not", async () => {
    // the child leaves only once the test lets it (the file "release"): no race with the CLI's own speed
    const slow = `
version: 1
services:
  slow:
    command: ["sh", "-c", "trap 'while [ ! -e release ]; do sleep 0.05; done; exit 0' TERM; : > trapped; while :; do sleep 0.1; done"]
`;
    const s = await stack(slow);
    const release = join(s.dir, "release");
    // running is said at the spawn: under load the shell may not have set its trap yet
    const trapped = join(s.dir, "trapped");
    const hasTrapped = (): Promise<void> => waitUntil(() => existsSync(trapped), "the shell to set its trap");
    s.start();
    const first = await s.waitFor("slow", (x) => x.state === "running", "to run");
    await hasTrapped();
    let stopped = false;
    const stop = s.run(["stop", "slow"]).then((r) => ((stopped = true), r));
    await s.waitFor("slow", (x) => x.state === "stopping", "to be stopping");
    expect(stopped).toBe(false);
    expect(isRunning(first.pid!)).toBe(true);
    await writeFile(release, "");
    expect((await stop).code).toBe(0);
    expect(isRunning(first.pid!)).toBe(false);

    await rm(release);
    await rm(trapped);
    await s.run(["start", "slow"]);
    const second = await s.waitFor("slow", (x) => x.state === "running", "to run again");
    await hasTrapped();
    const noWait = await s.run(["restart", "slow", "--no-wait"]);
    expect(noWait.code).toBe(0);
    // returned while the old child still waits to be let go
    expect(await live(s, "slow")).toMatchObject({ state: "stopping", pid: second.pid });
    const restart = s.run(["restart", "slow"]);
    await writeFile(release, "");
    expect((await restart).code).toBe(0);
    const third = await live(s, "slow");
    expect(third).toMatchObject({ state: "running" });
    expect(third?.pid).not.toBe(second.pid);
  });

  it("up NAME starts it and its dependencies only; a disabled service starts on vigil start", async () => {
    const s = await stack(STACK);
    s.start(["api"]);
    await s.waitFor("api", (x) => x.state === "running", "to run");
    await s.waitFor("db", (x) => x.state === "running", "to run");
    expect(await s.service("worker")).toMatchObject({ state: "stopped", pid: null });
    const cron = await s.service("cron");
    expect(cron).toMatchObject({ state: "stopped", pid: null, disabled: true });

    const table = await s.run(["ps"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/cron\s+stopped \(disabled\)/);

    expect((await s.run(["start", "worker", "cron"])).code).toBe(0);
    await s.waitFor("worker", (x) => x.state === "running", "to start");
    await s.waitFor("cron", (x) => x.state === "running", "to start");
  });

  it("up with an unknown name exits 1 with a did-you-mean, starting nothing", async () => {
    const s = await stack(STACK);
    s.start(["apj"]);
    expect(await s.exited()).toBe(1);
    expect(s.stderr.trim()).toBe(`vigil: unknown service apj, did you mean "api"? (known: db, api, worker, cron)`);
  });

  it("a reload does not start a disabled service", async () => {
    const s = await stack(STACK);
    s.start();
    await s.waitFor("worker", (x) => x.state === "running", "to run");
    await writeFile(join(s.dir, "supervisor.yaml"), `${STACK}  extra:\n    command: sleep 304\n    autostart: false\n`);
    const reload = await s.run(["reload"]);
    expect(reload.code).toBe(0);
    expect(await s.service("extra")).toMatchObject({ state: "stopped", disabled: true });
    expect(await s.service("cron")).toMatchObject({ state: "stopped", disabled: true });
  });
});

/** A service as the supervisor has it now (status.json is rewritten a moment after a change). */
async function live(s: Awaited<ReturnType<typeof stack>>, name: string): Promise<{ state: string; pid: number | null } | undefined> {
  const res = await s.run(["status", "--json", name]);
  return (JSON.parse(res.stdout) as { services: { name: string; state: string; pid: number | null }[] }).services.find((x) => x.name === name);
}
