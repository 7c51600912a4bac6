import { readFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRunning, useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

const MANIFEST = `
version: 1
services:
  web:
    command: sleep 300
    restart: { policy: always }
  worker:
    command: sleep 301
`;

/** Sends raw bytes to the control socket and returns what came back before it closed (or 2 s passed). */
async function rawControl(stateDir: string, payload: string | Buffer): Promise<string> {
  return await new Promise((resolve, reject) => {
    const c = createConnection(join(stateDir, "control.sock"));
    let got = "";
    c.setEncoding("utf8");
    c.on("data", (d: string) => {
      got += d;
      if (got.includes("\n")) c.end();
    });
    c.on("error", reject);
    c.on("close", () => resolve(got));
    c.on("connect", () => c.write(payload));
    setTimeout(() => c.destroy(), 2000).unref();
  });
}

describe("commands against a running supervisor", () => {
  it("stop holds a service down until start, restart gives a new PID, unknown names fail naming the known", async () => {
    const s = await stack(MANIFEST);
    s.start();
    const web = await s.waitFor("web", (x) => x.state === "running", "to run");
    const worker = await s.waitFor("worker", (x) => x.state === "running", "to run");

    const stop = await s.run(["stop", "web"]);
    expect(stop.code).toBe(0);
    const stopped = await s.waitFor("web", (x) => x.state === "stopped", "to be held down");
    expect(stopped.last_exit?.reason).toBe("manual");
    expect(isRunning(web.pid!)).toBe(false);

    const start = await s.run(["start", "web"]);
    expect(start.code).toBe(0);
    await s.waitFor("web", (x) => x.state === "running" && x.pid !== web.pid, "to run again");

    const restart = await s.run(["restart", "worker"]);
    expect(restart.code).toBe(0);
    await s.waitFor("worker", (x) => x.state === "running" && x.pid !== worker.pid, "to restart");

    const unknown = await s.run(["restart", "wrker"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe(`vigil: unknown service wrker, did you mean "worker"? (known: web, worker)`);
  });

  it("answers malformed and oversized control requests with an error and keeps serving", async () => {
    const s = await stack(MANIFEST);
    s.start();
    await s.waitFor("web", (x) => x.state === "running", "to run");
    expect(JSON.parse(await rawControl(s.stateDir, "not json\n"))).toMatchObject({ ok: false, code: "bad-request" });
    expect(JSON.parse(await rawControl(s.stateDir, '{"cmd":"explode"}\n'))).toMatchObject({ ok: false, error: 'unknown command "explode"' });
    expect(JSON.parse(await rawControl(s.stateDir, '{"cmd":"stop","names":[1]}\n'))).toMatchObject({ ok: false, code: "bad-request" });
    const huge = await rawControl(s.stateDir, Buffer.alloc(200 * 1024, "x"));
    expect(JSON.parse(huge)).toMatchObject({ ok: false, code: "bad-request" });
    const status = await s.run(["status", "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).services).toHaveLength(2);
  });

  it("answers a request whose command is nested 20,000 deep or 60 KB long as bad, and lives on", async () => {
    const s = await stack(MANIFEST);
    s.start();
    const web = await s.waitFor("web", (x) => x.state === "running", "to run");
    const deep = JSON.parse(await rawControl(s.stateDir, `{"cmd":${"[".repeat(20_000)}${"]".repeat(20_000)}}\n`));
    expect(deep).toEqual({ ok: false, error: "unknown command (an array)", code: "bad-request" });
    const long = JSON.parse(await rawControl(s.stateDir, `${JSON.stringify({ cmd: "x".repeat(60_000) })}\n`));
    expect(long).toEqual({ ok: false, error: `unknown command "${"x".repeat(40)}…"`, code: "bad-request" });
    const status = await s.run(["status", "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).services.find((x: { name: string }) => x.name === "web").pid).toBe(web.pid);
  });

  it("keeps status.json valid JSON while it is rewritten under a flood of beats", async () => {
    const s = await stack(
      `
version: 1
services:
  flood:
    command: node flood.cjs
    heartbeat: { via: socket, interval: 1s }
`,
      {
        "flood.cjs": `
const net = require("node:net");
const line = JSON.stringify({ service: process.env.VIGIL_SERVICE, token: process.env.VIGIL_TOKEN, type: "beat", data: { pad: "x".repeat(200) } }) + "\\n";
const chunk = line.repeat(200);
const s = net.createConnection(process.env.VIGIL_SOCKET, function pump() { while (s.write(chunk)); s.once("drain", pump); });
`,
      },
    );
    s.start();
    await s.waitFor("flood", (x) => x.beats > 1000, "to be flooded with beats");
    const file = join(s.stateDir, "status.json");
    let reads = 0;
    let lastBeats = 0;
    await waitUntil(async () => {
      const doc = JSON.parse(await readFile(file, "utf8")) as { services: { beats: number }[] };
      reads++;
      const beats = doc.services[0]?.beats ?? 0;
      expect(beats).toBeGreaterThanOrEqual(lastBeats);
      lastBeats = beats;
      // a read at each rewrite and between them: the file is never seen half written
      return reads >= 25;
    }, "25 reads of status.json");
    expect(lastBeats).toBeGreaterThan(1000);
  });
});
