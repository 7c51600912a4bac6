import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

async function journal(stateDir: string): Promise<{ kind: string; service: string | null; level: string; fields: Record<string, unknown> }[]> {
  try {
    const text = await readFile(join(stateDir, "events.jsonl"), "utf8");
    return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as never);
  } catch {
    return [];
  }
}

describe("watch: restart on file change", () => {
  it("restarts only the service whose files changed, once for a burst, ignoring what watch.ignore names", async () => {
    const s = await stack(`
version: 1
services:
  api:
    command: sleep 300
    cwd: app
    watch: { paths: [src], ignore: [node_modules, "**/*.test.js"], debounce: 300ms }
  db:
    command: sleep 301
`);
    await mkdir(join(s.dir, "app/src/node_modules"), { recursive: true });
    s.start();
    const api = await s.waitFor("api", (x) => x.state === "running", "to run");
    const db = await s.waitFor("db", (x) => x.state === "running", "to run");

    await writeFile(join(s.dir, "app/src/node_modules/dep.js"), "ignored");
    await writeFile(join(s.dir, "app/src/a.test.js"), "ignored");
    for (let i = 0; i < 5; i++) await writeFile(join(s.dir, "app/src/index.js"), `version ${i}`);

    const restarted = await s.waitFor("api", (x) => x.state === "running" && x.pid !== api.pid, "to restart on the change");
    expect(restarted.restarts).toBe(1);
    expect(restarted.last_exit?.reason).toBe("watch");
    expect((await s.service("db"))?.pid).toBe(db.pid);
    const restarts = (await journal(s.stateDir)).filter((e) => e.kind === "watch-restart");
    expect(restarts).toHaveLength(1);
    expect(restarts[0]?.fields).toMatchObject({ path: join(s.dir, "app/src/index.js") });
  });

  it("pauses watching with a warning when the service keeps changing its own watched files", async () => {
    // each child changes the watched file once, by a rename (\`sh -c "date > out/stamp"\` is two changes, the
    // truncation and the write, and on a loaded machine they can fall in two debounce windows: then two watch
    // restarts meet one restart of the service, and the counts below would not be the loop's)
    const s = await stack(`
version: 1
services:
  loop:
    command: ["sh", "-c", "date +%s%N > stamp.new && mv stamp.new out/stamp; exec sleep 300"]
    watch: { paths: [out], debounce: 100ms, max_restarts: 3, window: 1m }
`);
    await mkdir(join(s.dir, "out"));
    s.start();
    let paused: { level: string; fields: Record<string, unknown> } | undefined;
    await waitUntil(async () => {
      paused = (await journal(s.stateDir)).find((e) => e.kind === "watch-paused");
      return paused !== undefined;
    }, "the watch loop to be paused");
    expect(paused?.level).toBe("warn");
    expect(paused?.fields).toMatchObject({ restarts: 3, windowMs: 60_000 });
    const loop = await s.waitFor("loop", (x) => x.state === "running", "to keep running");
    expect(loop.restarts).toBe(3);
  });
});
