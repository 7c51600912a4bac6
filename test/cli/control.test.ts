import { createConnection } from "node:net";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, isRunning, useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

const TWO_SLEEPERS = `
version: 1
services:
  one:
    command: sleep 300
  two:
    command: [sleep, "300"]
    depends_on: [one]
`;

describe("asking the supervisor", () => {
  it("answers status --json with the status document, the same as status.json", async () => {
    const s = await stack(TWO_SLEEPERS);
    s.start();
    await s.waitFor("two", (x) => x.state === "running", "to run");
    const res = await s.run(["status", "--json"]);
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.supervisor).toMatchObject({ pid: s.up?.pid, generation: 1, config_error: null, manifest: join(s.dir, "supervisor.yaml") });
    expect(Object.keys(doc.services[0]).slice(0, 13)).toEqual([
      "name", "state", "health", "pid", "restarts", "started_at", "last_beat_at", "beats",
      "last_beat_data", "cpu_percent", "memory_bytes", "last_exit", "next_restart_at",
    ]);
    expect(doc.services.map((x: { name: string; state: string }) => [x.name, x.state])).toEqual([["one", "running"], ["two", "running"]]);
    expect(Date.parse(doc.services[0].started_at)).toBeGreaterThan(Date.now() - 60_000);
    const file = await s.statusFile();
    expect(file?.services.map((x) => x.pid)).toEqual(doc.services.map((x: { pid: number }) => x.pid));
  });

  it("prints a table for people and filters by name", async () => {
    const s = await stack(TWO_SLEEPERS);
    s.start();
    await s.waitFor("two", (x) => x.state === "running", "to run");
    const res = await s.run(["status", "two"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^NAME\s+STATE\s+HEALTH\s+PID/m);
    expect(res.stdout).toMatch(/^two\s+running\s+unknown\s+\d+/m);
    expect(res.stdout).not.toMatch(/^one\s/m);
    const unknown = await s.run(["status", "tow"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe(`vigil: unknown service tow, did you mean "two"? (known: one, two)`);
    // --json takes the supervisor's answer unparsed: a refusal still comes out as the one line
    const unknownJson = await s.run(["status", "--json", "tow"]);
    expect(unknownJson).toMatchObject({ code: 1, stdout: "" });
    expect(unknownJson.stderr.trim()).toBe(`vigil: unknown service tow, did you mean "two"? (known: one, two)`);
    expect(JSON.parse((await s.run(["status", "--json", "two"])).stdout).services.map((x: { name: string }) => x.name)).toEqual(["two"]);
  });

  it("ends quietly when the reader of its output has gone away (status --json | head)", async () => {
    const s = await stack(TWO_SLEEPERS);
    s.start();
    await s.waitFor("two", (x) => x.state === "running", "to run");
    const cli = spawn(process.execPath, [CLI, "status", "--json"], { cwd: s.dir, stdio: ["ignore", "pipe", "pipe"] });
    // the pipe is closed before the CLI writes to it: its every write fails with EPIPE
    cli.stdout.destroy();
    let stderr = "";
    cli.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => cli.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("stops everything on vigil down, which returns once every child is gone", async () => {
    const s = await stack(TWO_SLEEPERS);
    s.start();
    const one = await s.waitFor("one", (x) => x.state === "running", "to run");
    const two = await s.waitFor("two", (x) => x.state === "running", "to run");
    const res = await s.run(["down"]);
    expect(res.code).toBe(0);
    expect(isRunning(one.pid!)).toBe(false);
    expect(isRunning(two.pid!)).toBe(false);
    expect(await s.exited()).toBe(0);
    // dependants stop first
    expect(s.stderr.indexOf("two: stopped")).toBeGreaterThan(-1);
    expect(s.stderr.indexOf("two: stopped")).toBeLessThan(s.stderr.indexOf("one: stopped"));
  });

  it("keeps its state dir private: directory 0700, control socket 0600", async () => {
    const s = await stack(TWO_SLEEPERS);
    s.start();
    await s.waitFor("one", (x) => x.state === "running", "to run");
    expect((await stat(s.stateDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(s.stateDir, "control.sock"))).mode & 0o777).toBe(0o600);
  });

  it("says in one line that no supervisor runs, also over a stale socket", async () => {
    const s = await stack(TWO_SLEEPERS);
    const none = await s.run(["status", "--json"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^vigil: no supervisor is running for this stack/);
    expect(none.stderr.trim().split("\n")).toHaveLength(1);
    // a socket file nobody listens on, as a SIGKILLed supervisor leaves behind
    await mkdir(s.stateDir, { recursive: true });
    const path = join(s.stateDir, "control.sock");
    const listener = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`]);
    await new Promise((r) => listener.stdout.once("data", r));
    listener.kill("SIGKILL");
    await new Promise((r) => listener.once("exit", r));
    expect((await stat(path)).isSocket()).toBe(true);
    const stale = await s.run(["down"]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^vigil: no supervisor is running/);
  });

  it("refuses a second vigil up on the same stack", async () => {
    const s = await stack(TWO_SLEEPERS);
    s.start();
    const one = await s.waitFor("one", (x) => x.state === "running", "to run");
    const second = await s.run(["up"]);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toMatch(/^vigil: another vigil \(pid \d+\) is already supervising this stack/);
    expect((await s.service("one"))?.pid).toBe(one.pid);
  });

  it("ends the children of a SIGKILLed supervisor before starting new ones", async () => {
    const s = await stack(`
version: 1
services:
  keeper:
    command: sh -c 'sleep 300 & echo $! > grandchild.pid; wait'
`);
    const first = s.start();
    const old = await s.waitFor("keeper", (x) => x.state === "running", "to run");
    await waitUntil(async () => (await readFile(join(s.dir, "grandchild.pid"), "utf8").catch(() => "")).trim() !== "", "grandchild pid");
    const grandchild = Number((await readFile(join(s.dir, "grandchild.pid"), "utf8")).trim());
    await waitUntil(async () => (await readFile(join(s.stateDir, "children.json"), "utf8").catch(() => "")).includes(String(old.pid)), "child recorded");
    first.kill("SIGKILL");
    await s.exited();
    expect(isRunning(old.pid!)).toBe(true);
    s.start();
    const fresh = await s.waitFor("keeper", (x) => x.state === "running" && x.pid !== old.pid, "to run anew");
    expect(isRunning(old.pid!)).toBe(false);
    expect(isRunning(grandchild)).toBe(false);
    expect(isRunning(fresh.pid!)).toBe(true);
    expect(s.stderr).toMatch(/keeper: ended pid \d+ left behind by a supervisor that died/);
  });
});

describe("bad manifests", () => {
  it("vigil up exits 2 on an invalid manifest, starts nothing, and says where", async () => {
    const s = await stack(`version: 1
services:
  web:
    command: sh -c 'echo started > started.txt; sleep 300'
    restrat: { policy: always }
`);
    const res = await s.run(["up"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^supervisor\.yaml:5:5: services\.web\.restrat: unknown key "restrat", did you mean "restart"\?/m);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    await expect(readFile(join(s.dir, "started.txt"))).rejects.toThrow();
  });

  it("vigil check prints every problem and exits 2, or ok and 0", async () => {
    const s = await stack(`version: 1
services:
  a:
    command: x
    depends_on: [b]
    stop: { timeout: 5 seconds }
`);
    const res = await s.run(["check"]);
    expect(res.code).toBe(2);
    const lines = res.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^supervisor\.yaml:5:18: services\.a\.depends_on\.0: .*"b"/);
    expect(lines[1]).toMatch(/^supervisor\.yaml:6:22: services\.a\.stop\.timeout: /);
    await writeFile(join(s.dir, "good.yaml"), "version: 1\nservices:\n  a: { command: sleep 1 }\n");
    const ok = await s.run(["check", "-f", "good.yaml"]);
    expect(ok.code).toBe(0);
  });

  it("a missing manifest and an unknown flag each get one line", async () => {
    const s = await stack(TWO_SLEEPERS);
    const missing = await s.run(["check", "-f", "nope.yaml"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/nope\.yaml/);
    const flag = await s.run(["up", "--frobnicate"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--frobnicate'/);
  });
});

describe("vigil down with other clients connected", () => {
  it("returns once vigil up has exited, even while another client holds the control socket open", async () => {
    const s = await stack(`
version: 1
services:
  a:
    command: sleep 300
`);
    s.start();
    await s.waitFor("a", (x) => x.state === "running", "to run");
    // a client that sent half a request and went quiet
    const idle = createConnection(join(s.stateDir, "control.sock"));
    idle.on("error", () => undefined);
    await new Promise<void>((resolve) => idle.once("connect", () => resolve()));
    idle.write('{"cmd":"sta');
    try {
      const down = await s.run(["down"]);
      expect(down.code).toBe(0);
      expect(isRunning(s.up!.pid!), "vigil up still runs after down returned").toBe(false);
    } finally {
      idle.destroy();
    }
  });
});

