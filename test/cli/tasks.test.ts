// In-flight tasks, beat history and `vigil health` against the real supervisor and the real CLI.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BeatsDoc } from "../../src/core/stack/queries.js";
import { isRunning, useStacks, vigil, waitUntil } from "../support/stack.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { freePort } from "../support/net.js";
import { tmpdir } from "node:os";

const stack = useStacks();

interface JournalEvent {
  readonly kind: string;
  readonly service: string | null;
  readonly fields: Record<string, unknown>;
}

async function journal(dir: string): Promise<JournalEvent[]> {
  const text = await readFile(join(dir, ".vigil", "events.jsonl"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line) as JournalEvent);
}

describe("in-flight tasks", () => {
  it("a task that stalls gives exactly one stale warning and, past its timeout, a restart; the new child has no open task", async () => {
    // the first child starts a task and then does nothing; the next ones only sleep
    const s = await stack(`
version: 1
services:
  worker:
    command: sh -c 'if [ ! -e started ]; then vigil beat --task job-1 --start --name nightly && touch started; fi; exec sleep 300'
    tasks: { stale_after: 300ms, timeout: 1500ms, on_timeout: restart }
    restart: { backoff: { initial: 0 } }
`);
    s.start();
    const first = await s.waitFor("worker", (x) => x.tasks?.open === 1, "to report its task");
    expect(first.tasks?.in_flight[0]).toMatchObject({ id: "job-1", name: "nightly" });
    expect(first.tasks?.in_flight[0]?.running_for_ms).toEqual(expect.any(Number));
    const restarted = await s.waitFor("worker", (x) => x.restarts >= 1 && x.state === "running", "to be restarted for its task");
    expect(restarted.last_exit?.reason).toBe("task-timeout");
    expect(restarted.pid).not.toBe(first.pid);
    expect(restarted.tasks).toMatchObject({ state: "idle", open: 0, started: 1 });
    const events = (await journal(s.dir)).filter((e) => e.service === "worker");
    expect(events.filter((e) => e.kind === "task-stale").map((e) => e.fields["task"])).toEqual(["job-1"]);
    expect(events.filter((e) => e.kind === "task-timeout").map((e) => [e.fields["task"], e.fields["onTimeout"]])).toEqual([["job-1", "restart"]]);
    expect(events.find((e) => e.kind === "failure")?.fields).toMatchObject({ reason: "task-timeout" });
  });

  it("shows open tasks with running and idle times in the table and GET /api/services/NAME/tasks, and ends them", async () => {
    const port = await freePort();
    const s = await stack(`
version: 1
http: { listen: "127.0.0.1:${port}" }
services:
  agent:
    command: sh -c 'vigil beat --task req-1 --start --name summarise && vigil beat --task req-2 --start && touch started && while [ ! -e go ]; do sleep 0.05; done; vigil beat --task req-1 --end && touch ended && exec sleep 300'
`);
    s.start();
    await waitUntil(async () => (await readFile(join(s.dir, "started")).then(() => true, () => false)), "the child to start its tasks");
    await s.waitFor("agent", (x) => x.tasks?.open === 2, "to have two open tasks");
    const table = await s.run(["status"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/agent {2}tasks: 2 open\n {2}req-1 {2}summarise {2}running [\d.]+m?s, idle [\d.]+m?s\n {2}req-2 {2}running/);
    const answer = (await (await fetch(`http://127.0.0.1:${port}/api/services/agent/tasks`)).json()) as { services: { tasks: { in_flight: { id: string; running_for_ms: number; idle_for_ms: number }[] } }[] };
    expect(answer.services[0]?.tasks.in_flight.map((t) => t.id)).toEqual(["req-1", "req-2"]);
    for (const task of answer.services[0]?.tasks.in_flight ?? []) expect(task.running_for_ms).toBeGreaterThanOrEqual(task.idle_for_ms);
    expect((await fetch(`http://127.0.0.1:${port}/api/services/nope/tasks`)).status).toBe(404);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('vigil_service_tasks_open{service="agent",instance="agent"} 2\n');
    const beats = await fetch(`http://127.0.0.1:${port}/api/services/agent/beats?since=10m&until=now`);
    expect(beats.status).toBe(200);
    expect(await beats.json()).toMatchObject({ services: [{ name: "agent", beats: [], stats: { beats: 0, late: null } }] });
    const bogus = await fetch(`http://127.0.0.1:${port}/api/services/agent/beats?since=yesterday`);
    expect([bogus.status, ((await bogus.json()) as { error: string }).error]).toEqual([400, expect.stringMatching(/^since="yesterday": expected a duration/)]);
    await writeFile(join(s.dir, "go"), "");
    const ended = await s.waitFor("agent", (x) => x.tasks?.open === 1, "to end one task");
    expect(ended.tasks).toMatchObject({ state: "busy", started: 2, ended: 1, in_flight: [{ id: "req-2" }] });
  });
});

describe("vigil beats", () => {
  it("returns exactly the beats of the window given by --since and --until, with their figures", async () => {
    const s = await stack(`
version: 1
services:
  beater:
    command: sh -c 'for n in 1 2 3 4 5 6 7; do vigil beat --data "{\\"n\\":$n}"; done; touch done; exec sleep 300'
    heartbeat: { via: socket, interval: 1m, history: 50 }
`);
    s.start();
    await waitUntil(async () => (await readFile(join(s.dir, "done")).then(() => true, () => false)), "the child to send its beats");
    await s.waitFor("beater", (x) => x.beats === 7, "to have 7 beats");
    const all = await s.run(["beats", "beater", "--since", "10m", "--json"]);
    expect(all.code).toBe(0);
    const every = (JSON.parse(all.stdout) as { services: BeatsDoc[] }).services[0]!;
    expect(every.beats.map((b) => (b.data as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(every).toMatchObject({ history: 50, interval_ms: 60_000, stats: { beats: 7, late: 0 } });
    const [from, to] = [every.beats[2]!.at, every.beats[5]!.at];
    const window = await s.run(["beats", "beater", "--since", from, "--until", to, "--json"]);
    const doc = (JSON.parse(window.stdout) as { services: BeatsDoc[] }).services[0]!;
    expect(doc.beats.map((b) => (b.data as { n: number }).n)).toEqual([3, 4, 5, 6]);
    expect(doc.stats.beats).toBe(4);
    expect(doc.stats.mean_interval_ms).toBeGreaterThan(0);
    expect(doc.stats.p95_interval_ms).toBeGreaterThanOrEqual(doc.stats.mean_interval_ms ?? 0);
    const people = await s.run(["beats", "beater", "--since", from, "--until", to]);
    expect(people.stdout).toMatch(/^beater: 4 beats \(interval 1m, the last 50 kept\)\n( {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} {2}\{"n":[3-6]\}\n){4} {2}interval mean /);
    expect((await s.run(["beats", "beater", "--since", "yesterday"])).stderr).toMatch(/--since "yesterday": expected a duration/);
  });
});

describe("vigil health", () => {
  it("exits 0 when every service is well, 3 naming the one that is not, and 1 when no supervisor runs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vigil-health-"));
    try {
      await writeFile(join(dir, "supervisor.yaml"), "version: 1\nservices:\n  a:\n    command: sleep 300\n");
      const none = await vigil(["health"], dir);
      expect([none.code, none.stderr]).toEqual([1, expect.stringMatching(/no supervisor/)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const s = await stack(`
version: 1
services:
  ok:
    command: sleep 300
  flaky:
    command: sh -c 'exit 1'
    disabled: true
    restart: { policy: always, backoff: { initial: 1m } }
`);
    s.start();
    await s.waitFor("ok", (x) => x.state === "running", "to run");
    const well = await s.run(["health"]);
    expect([well.code, well.stdout]).toEqual([0, ""]);
    const json = await s.run(["health", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ healthy: true, supervisor: { healthy: true, loop_lag_ms: expect.any(Number) } });
    expect((await s.run(["start", "flaky"])).code).toBe(0);
    await s.waitFor("flaky", (x) => x.state === "backoff", "to wait in backoff");
    const sick = await s.run(["health"]);
    expect(sick.code).toBe(3);
    expect(sick.stdout).toMatch(/^flaky {2}backoff {2}unknown {2}backoff: restarting at \S+ after code 1\n$/);
    expect((await s.run(["health", "ok"])).code).toBe(0);
    expect((await s.run(["status"])).code).toBe(0);
    const doc = JSON.parse((await s.run(["status", "--json"])).stdout) as { supervisor: { loop_lag_ms: number; healthy: boolean } };
    expect(doc.supervisor).toMatchObject({ loop_lag_ms: expect.any(Number), healthy: true });
    expect(isRunning(s.up?.pid ?? 0)).toBe(true);
  });
});
