import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../support/net.js";
import { isRunning, useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

// Answers 200 until the file "sick" exists, then 500.
const FLAKY_SERVER = `
const http = require("node:http");
const fs = require("node:fs");
http.createServer((req, res) => {
  res.writeHead(fs.existsSync("sick") ? 500 : 200);
  res.end();
}).listen(Number(process.env.PORT), "127.0.0.1");
`;

describe("probes", () => {
  it("holds a dependant back until a tcp readiness probe passes", async () => {
    const port = await freePort();
    const s = await stack(
      `
version: 1
services:
  app:
    command: sh -c 'date +%s%N > app-started.txt; exec sleep 300'
    depends_on: { db: healthy }
  db:
    command: sh -c 'sleep 1; exec node listen.cjs'
    env: { PORT: "${port}" }
    probes:
      readiness: { tcp: "127.0.0.1:${port}", interval: 100ms, timeout: 200ms }
`,
      {
        "listen.cjs": `require("node:net").createServer((c) => c.end()).listen(Number(process.env.PORT), "127.0.0.1", () => require("node:fs").writeFileSync("db-listening.txt", String(Date.now())));`,
      },
    );
    s.start();
    const waiting = await s.waitFor("app", (x) => x.waiting_for.includes("db"), "to wait for db");
    expect(waiting.pid).toBeNull();
    const db = await s.waitFor("db", (x) => x.state === "running", "to run");
    expect(db.health).not.toBe("healthy");
    await s.waitFor("app", (x) => x.state === "running", "to start once db accepts connections");
    expect((await s.service("db"))?.health).toBe("healthy");
    // both wall-clock times: milliseconds since the epoch; "running" comes with the spawn, so on a loaded
    // machine the shell may not have made the file yet, and makes it before date writes into it
    // (and the kernel takes connections from listen() on, a moment before Node's callback writes its file)
    await waitUntil(async () => (await readFile(join(s.dir, "db-listening.txt"), "utf8").catch(() => "")) !== "", "db-listening.txt written");
    const listeningMs = Number(await readFile(join(s.dir, "db-listening.txt"), "utf8"));
    await waitUntil(async () => (await readFile(join(s.dir, "app-started.txt"), "utf8").catch(() => "")).trim() !== "", "app-started.txt written");
    const startedMs = Number((await readFile(join(s.dir, "app-started.txt"), "utf8")).trim()) / 1e6;
    expect(startedMs).toBeGreaterThanOrEqual(listeningMs);
  });

  it("kills an exec probe that hangs at its timeout, leaving nothing behind", async () => {
    const s = await stack(`
version: 1
services:
  stuck:
    command: sleep 300
    restart: { policy: on-failure, max_restarts: 0 }
    probes:
      liveness:
        exec: sh -c 'echo $$$$ >> probe-pids.txt; trap "" TERM; sleep 100'
        shell: false
        interval: 100ms
        timeout: 300ms
        failures: 2
`);
    s.start();
    const stuck = await s.waitFor("stuck", (x) => x.state === "fatal", "to be ended by its failing probe");
    expect(stuck.last_exit?.reason).toBe("probe");
    expect(s.stderr).toMatch(/liveness probe failed 2 times: timeout after 300ms/);
    const pids = (await readFile(join(s.dir, "probe-pids.txt"), "utf8")).trim().split("\n").map(Number);
    expect(pids.length).toBeGreaterThanOrEqual(2);
    await waitUntil(() => pids.every((p) => !isRunning(p)), "every probe process gone");
  });
});
