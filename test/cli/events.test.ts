import { spawn } from "node:child_process";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { VigilEvent } from "../../src/runtime/outputs/event.js";
import { CLI, isRunning, useStacks, waitUntil, type Stack } from "../support/stack.js";

const stack = useStacks();

const MANIFEST = `
version: 1
services:
  app:
    command: sleep 300
  other:
    command: sleep 300
`;

/** One run of the supervisor: up until app runs, then stopped; returns app's pid. */
async function oneRun(s: Stack): Promise<number> {
  s.start();
  const app = await s.waitFor("app", (x) => x.state === "running" && x.pid !== null, "to run");
  await s.waitFor("other", (x) => x.state === "running", "to run");
  s.up?.kill("SIGTERM");
  expect(await s.exited()).toBe(0);
  return app.pid ?? 0;
}

const jsonLines = (stdout: string): VigilEvent[] =>
  stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as VigilEvent);

describe("vigil events", () => {
  it("reads the journal with no supervisor running, with the events of every run", async () => {
    const s = await stack(MANIFEST);
    const first = await oneRun(s);
    const second = await oneRun(s);
    expect(second).not.toBe(first);

    const all = await s.run(["events"]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split("\n");
    expect(lines.filter((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}vigil {2}up {2,}supervising 2 services/.test(l))).toHaveLength(2);
    expect(lines.filter((l) => /^\S+ \S+ {2}vigil {2}down {2,}all services stopped$/.test(l))).toHaveLength(2);
    for (const pid of [first, second]) expect(lines.some((l) => /^\S+ \S+ {2}app {4}spawned {2,}started \(pid \d+\)$/.test(l) && l.endsWith(`(pid ${pid})`))).toBe(true);

    const json = jsonLines((await s.run(["events", "--json"])).stdout);
    expect(json).toHaveLength(lines.length);
    expect(json.filter((e) => e.kind === "spawned" && e.service === "app").map((e) => e.fields["pid"])).toEqual([first, second]);
    expect(json[0]).toMatchObject({ service: null, kind: "up", level: "info", at: expect.any(String) });

    const app = jsonLines((await s.run(["events", "--service", "app", "--json"])).stdout);
    expect(app.length).toBeGreaterThanOrEqual(4);
    expect(app.every((e) => e.service === "app")).toBe(true);

    expect(jsonLines((await s.run(["events", "--since", "1h", "--json"])).stdout)).toHaveLength(json.length);
    expect(jsonLines((await s.run(["events", "-n", "3", "--json"])).stdout)).toEqual(json.slice(-3));
    const future = await s.run(["events", "--since", "2099-01-01"]);
    expect([future.code, future.stdout]).toEqual([0, ""]);
    expect(future.stderr).toMatch(/no events in that time/);
    const bad = await s.run(["events", "--since", "yesterday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since "yesterday": expected a duration such as 30m or 1h/);

    // --until: the events up to the end of the first run, and none of the second
    const firstDown = json.findIndex((e) => e.kind === "down");
    const untilFirst = jsonLines((await s.run(["events", "--until", json[firstDown]!.at, "--json"])).stdout);
    expect(untilFirst).toEqual(json.slice(0, firstDown + 1));
    const afterFirst = json.findIndex((e) => e.at !== json[0]!.at);
    const window = jsonLines((await s.run(["events", "--since", json[afterFirst]!.at, "--until", json[firstDown]!.at, "--json"])).stdout);
    expect(window).toEqual(json.slice(afterFirst, firstDown + 1));
    expect((await s.run(["events", "--until", "10m", "-f"])).code).toBe(2);
  });

  it("skips a line torn by a crash, and the next run's events start on a line of their own", async () => {
    const s = await stack(MANIFEST);
    await oneRun(s);
    await appendFile(join(s.stateDir, "events.jsonl"), '{"at":"2026-11-22T10:00:00.000Z","service":"app","ki');
    const read = await s.run(["events", "--json"]);
    expect(read.code).toBe(0);
    expect(jsonLines(read.stdout).at(-1)?.kind).toBe("down");
    await oneRun(s);
    const kinds = jsonLines((await s.run(["events", "--json"])).stdout).map((e) => e.kind);
    expect(kinds.filter((k) => k === "up")).toHaveLength(2);
  });

  it("follows new events with -f until ctrl-c", async () => {
    const s = await stack(MANIFEST);
    const follower = spawn(process.execPath, [CLI, "events", "-f", "--json", "--service", "app"], { cwd: s.dir, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    follower.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => follower.on("exit", (code) => resolve(code)));
    try {
      s.start();
      const app = await s.waitFor("app", (x) => x.state === "running" && x.pid !== null, "to run");
      await waitUntil(() => out.includes(`"pid":${app.pid}`), () => `the follower to print app's spawn; got ${out}`);
      follower.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(jsonLines(out).every((e) => e.service === "app")).toBe(true);
    } finally {
      if (follower.pid && isRunning(follower.pid)) process.kill(follower.pid, "SIGKILL");
    }
  });
});
