// The Python client (clients/python/vigil_heartbeat.py) in real python3 children of the real supervisor.
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { BeatsDoc } from "../../src/core/stack/queries.js";
import { lacking } from "../support/programs.js";
import { isRunning, useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();
const CLIENT_DIR = resolve(import.meta.dirname, "../../clients/python");

// Beats by itself (the thread) and by hand, says ready and a status, runs two tasks, and returns from
// its main code while the beat thread still runs: the thread must not keep it alive.
const AGENT = `
import os, sys, time
import vigil_heartbeat

def wait_for(name):
    while not os.path.exists(name):
        time.sleep(0.02)

hb = vigil_heartbeat.heartbeat(data=lambda: {"queue": 3})
print("transport", hb.transport, flush=True)
hb.ready()
hb.status("working")
hb.beat({"custom": 1})
first = hb.task("req-1", "summarise")
with hb.task("req-2") as second:
    second.progress()
    open("in-tasks", "w").close()
    wait_for("go")
first.progress()
first.end()
wait_for("finish")
print("main code done", flush=True)
`;

const PLAIN = `
import vigil_heartbeat as v
hb = v.heartbeat()
hb.ready()
hb.beat({"a": 1})
with hb.task("x", "y") as t:
    t.progress()
hb.stop()
print("transport", hb.transport, flush=True)
`;

const SHORT = `
import time
import vigil_heartbeat
hb = vigil_heartbeat.heartbeat()
print("transport", hb.transport, flush=True)
hb.ready()
hb.status("up")
hb.task("job", "import")
while True:
    time.sleep(1)
`;

const exists = (path: string) => readFile(path).then(() => true, () => false);

describe("the Python client", () => {
  it.skipIf(lacking("python3"))("its beats, ready, status and tasks reach the supervisor, and its beat thread ends with the process", async () => {
    const s = await stack(
      `
version: 1
services:
  agent:
    command: python3 agent.py
    env: { PYTHONPATH: ${JSON.stringify(CLIENT_DIR)} }
    heartbeat: { via: socket, interval: 400ms, misses: 50 }
    restart: { policy: on-failure }
`,
      { "agent.py": AGENT },
    );
    s.start();
    await waitUntil(() => exists(join(s.dir, "in-tasks")), () => `the agent to open its tasks\n${s.stdout}${s.stderr}`);
    const busy = await s.waitFor("agent", (x) => x.tasks?.open === 2 && x.beats >= 3 && (x.last_beat_data as { queue?: number } | null)?.queue === 3,
      "to have two open tasks and beats from its thread",);
    expect(busy).toMatchObject({ state: "running", health: "healthy", status_text: "working", last_beat_data: { queue: 3 } });
    expect(busy.tasks?.in_flight.map((t) => [t.id, t.name])).toEqual([["req-1", "summarise"], ["req-2", null]]);
    expect(s.stdout).toContain("agent | transport socket");
    const beats = JSON.parse((await s.run(["beats", "agent", "--json"])).stdout) as { services: BeatsDoc[] };
    expect(beats.services[0]?.beats.map((b) => b.data)).toContainEqual({ custom: 1 });

    await writeFile(join(s.dir, "go"), "");
    const done = await s.waitFor("agent", (x) => x.tasks?.open === 0, "to end its tasks");
    expect(done.tasks).toMatchObject({ state: "idle", started: 2, ended: 2, unmatched: 0 });

    await writeFile(join(s.dir, "finish"), "");
    const exited = await s.waitFor("agent", (x) => x.state === "exited", "to exit by itself");
    expect(exited.last_exit).toMatchObject({ code: 0, signal: null, reason: "exit" });
    expect(s.stdout).toContain("main code done");
    expect(isRunning(busy.pid ?? 0)).toBe(false);
  });

  for (const via of ["ipc", "notify"] as const) {
    it.skipIf(lacking("python3"))(`speaks over ${via} where vigil asks for it (tasks over ${via === "ipc" ? "ipc" : "the socket"})`, async () => {
      const s = await stack(
        `
version: 1
services:
  agent:
    command: python3 short.py
    env: { PYTHONPATH: ${JSON.stringify(CLIENT_DIR)} }
    heartbeat: { via: ${via}, interval: 400ms, misses: 50 }
`,
        { "short.py": SHORT },
      );
      s.start();
      const seen = await s.waitFor("agent", (x) => x.tasks?.open === 1 && x.status_text === "up" && x.beats >= 2, "to say ready, a status, beats and a task");
      expect(seen).toMatchObject({ health: "healthy", tasks: { in_flight: [{ id: "job", name: "import" }] } });
      expect(s.stdout).toContain(`agent | transport ${via}`);
      expect(seen.rejected_messages).toBe(0);
    });
  }

  it.skipIf(lacking("python3"))("does nothing, and never fails, outside vigil", async () => {
    const s = await stack(
      `
version: 1
services:
  plain:
    command: env -u VIGIL_SERVICE python3 plain.py
    env: { PYTHONPATH: ${JSON.stringify(CLIENT_DIR)} }
    restart: { policy: never }
`,
      { "plain.py": PLAIN },
    );
    s.start();
    const exited = await s.waitFor("plain", (x) => x.state === "exited", "to exit");
    expect(exited).toMatchObject({ beats: 0, tasks: null, last_exit: { code: 0 } });
    expect(s.stdout).toContain("plain | transport none");
  });
});
