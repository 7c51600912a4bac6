import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { StatusDocument } from "../../src/control/status-document.js";
import { CLI, isRunning, useStacks, vigil, waitUntil, type CliResult, type Stack } from "../support/stack.js";

const stack = useStacks();

// the detached supervisor ends with `vigil down`; a test that fails before is cleaned up by the stack's
// marker (VIGIL_TEST_STACK in its environment, and so in its children's)
const run = (s: Stack, args: readonly string[]): Promise<CliResult> => vigil(args, s.dir, 30_000, { VIGIL_TEST_STACK: s.dir });

async function status(s: Stack): Promise<StatusDocument> {
  const res = await s.run(["status", "--json"]);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as StatusDocument;
}

/** `vigil down`, then: the supervisor and every child it had are gone (a zombie, dead but unreaped, counts as gone). */
async function downAndGone(s: Stack, pids: readonly number[]): Promise<void> {
  const down = await s.run(["down"]);
  expect(down.code, down.stderr).toBe(0);
  for (const pid of pids) expect(isRunning(pid), `pid ${pid} still running`).toBe(false);
  expect(s.leftovers()).toEqual([]);
}

const TICKER = `
version: 1
services:
  ticker:
    command: sh -c 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.1; done'
  quiet:
    command: sleep 300
`;

describe("vigil up -d", () => {
  it("returns once the stack runs, with the status table, and leaves it running until vigil down", async () => {
    const s = await stack(TICKER);
    const up = await run(s, ["up", "-d"]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^ticker +running /m);
    expect(up.stdout).toMatch(/^quiet +running /m);
    expect(up.stderr).toMatch(/started in the background \(supervisor pid \d+/);

    const doc = await status(s);
    expect(doc.services.map((x) => x.state)).toEqual(["running", "running"]);
    const pids = [doc.supervisor.pid, ...doc.services.map((x) => x.pid!)];
    for (const pid of pids) s.seenPids.add(pid);
    // a session of its own: no terminal's Ctrl-C reaches it
    expect(readSessionId(doc.supervisor.pid)).toBe(doc.supervisor.pid);
    await downAndGone(s, pids);
  });

  it("exits 1 when a service cannot start, and the table says so", async () => {
    const s = await stack(`
version: 1
services:
  ghost:
    command: ./no-such-program
    restart: { backoff: { initial: 10s } }
  fine:
    command: sleep 300
`);
    const up = await run(s, ["up", "-d"]);
    expect(up.code, up.stderr).toBe(1);
    expect(up.stdout).toMatch(/^ghost +backoff /m);
    expect(up.stdout).toMatch(/^fine +running /m);
    expect(up.stderr).toMatch(/^vigil: ghost: failed to start, retrying: .*ENOENT/m);
    const doc = await status(s);
    await downAndGone(s, [doc.supervisor.pid, ...doc.services.flatMap((x) => (x.pid === null ? [] : [x.pid]))]);
  });

  it("prints an invalid manifest's problems in the foreground with exit status 2, and starts nothing", async () => {
    const s = await stack("version: 1\nservices:\n  web:\n    comand: sleep 300\n");
    const up = await run(s, ["up", "-d"]);
    expect(up.code).toBe(2);
    expect(up.stderr).toMatch(/^supervisor\.yaml:4:5: services\.web\.comand: unknown key "comand"/m);
    expect(existsSync(join(s.stateDir, "control.sock"))).toBe(false);
    expect(s.leftovers()).toEqual([]);
  });

  it("exits 1 when a supervisor already runs this stack", async () => {
    const s = await stack(TICKER);
    expect((await run(s, ["up", "-d"])).code).toBe(0);
    const again = await run(s, ["up", "-d"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/another vigil \(pid \d+\) is already supervising this stack/);
    const doc = await status(s);
    await downAndGone(s, [doc.supervisor.pid, ...doc.services.map((x) => x.pid!)]);
  });
});

describe("vigil attach", () => {
  const attached: ChildProcessWithoutNullStreams[] = [];
  afterEach(() => {
    for (const a of attached.splice(0)) if (a.exitCode === null && a.signalCode === null) a.kill("SIGKILL");
  });

  function attach(s: Stack, args: readonly string[] = []): { child: ChildProcessWithoutNullStreams; out: () => string; err: () => string; exit: Promise<number | null> } {
    const child = spawn(process.execPath, [CLI, "attach", ...args], { cwd: s.dir, env: { ...process.env, NO_COLOR: "1" } });
    attached.push(child);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    return { child, out: () => out, err: () => err, exit };
  }

  it("shows new output of the running stack, and on SIGINT detaches leaving it running", async () => {
    const s = await stack(TICKER);
    expect((await run(s, ["up", "-d"])).code).toBe(0);
    const before = await status(s);
    const a = attach(s, ["--timestamps"]);
    await waitUntil(() => /tick \d+\n[^]*tick \d+\n/.test(a.out()), () => `two ticks through attach\n${a.out()}\n${a.err()}`);
    // as up prints it: the name padded to the stack's widest, then | and the line, after the time
    expect(a.out().split("\n")[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ticker \| tick \d+$/);
    a.child.kill("SIGINT");
    expect(await a.exit).toBe(0);

    const after = await status(s);
    expect(after.supervisor.pid).toBe(before.supervisor.pid);
    expect(after.services.map((x) => [x.name, x.state, x.pid])).toEqual(before.services.map((x) => [x.name, "running", x.pid]));
    await downAndGone(s, [before.supervisor.pid, ...before.services.map((x) => x.pid!)]);
  });

  it("ends by itself with status 0 once the supervisor has stopped", async () => {
    const s = await stack(TICKER);
    expect((await run(s, ["up", "-d"])).code).toBe(0);
    const doc = await status(s);
    const a = attach(s, ["ticker"]);
    await waitUntil(() => a.out().includes("tick"), () => `a tick through attach\n${a.err()}`);
    await downAndGone(s, [doc.supervisor.pid, ...doc.services.map((x) => x.pid!)]);
    expect(await a.exit).toBe(0);
    expect(a.err()).toMatch(/the supervisor has stopped/);
  });

  it("exits 1 when no supervisor runs", async () => {
    const s = await stack(TICKER);
    const res = await s.run(["attach"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^vigil: /);
  });
});

describe("output for people and programs", () => {
  it("prints a time before each line of `vigil up --timestamps`, and logs --json and --timestamps read the stored times", async () => {
    const s = await stack(`
version: 1
services:
  job:
    command: [sh, -c, "echo one; echo two >&2; exit 0"]
    restart: { policy: never }
`);
    s.start(["--timestamps"]);
    await s.waitFor("job", (x) => x.state === "exited", "to exit");
    await waitUntil(() => s.stdout.includes("two"), "both lines on up's stdout");
    expect(s.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z job \| one$/m);
    expect(s.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z job ! two$/m);

    const json = await s.run(["logs", "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => Object.keys(l))).toEqual([
      ["time", "service", "instance", "stream", "line"],
      ["time", "service", "instance", "stream", "line"],
    ]);
    expect(lines.map(({ time: _, ...rest }) => rest).sort((a, b) => String(a["line"]).localeCompare(String(b["line"])))).toEqual([
      { service: "job", instance: 0, stream: "stdout", line: "one" },
      { service: "job", instance: 0, stream: "stderr", line: "two" },
    ]);
    const stamped = await s.run(["logs", "--timestamps"]);
    const times = lines.map((l) => l["time"] as string);
    for (const time of times) expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // the same stored times as the JSON
    expect(stamped.stdout.trimEnd().split("\n").map((l) => l.split(" ")[0]).sort()).toEqual([...times].sort());
  });
});

/** the session id, field 6 of /proc/PID/stat (after the command in parentheses) */
function readSessionId(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
}
