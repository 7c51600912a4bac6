import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HeartbeatServer, killStarted, runScript, waitFor } from "./heartbeat-server.js";

const CLIENT = pathToFileURL(resolve(import.meta.dirname, "../../dist/client/index.js")).href;

// a child that works (one tick every 20 ms) until its stdin ends, then stops its heartbeat if asked to
const WORKER = `
import { heartbeat } from ${JSON.stringify(CLIENT)};
let n = 0;
const hb = heartbeat({ data: () => ({ loop: n }) });
console.log("transport " + hb.transport);
hb.ready();
hb.status("warming up");
const work = setInterval(() => { n++; hb.status("tick " + n); console.log("tick " + n); }, 20);
process.stdin.on("end", () => { clearInterval(work); if (process.env.STOP_ON_END) hb.stop(); });
process.stdin.resume();
`;

let dir: string;
let socketPath: string;
const servers: HeartbeatServer[] = [];

async function listen(opts: { paused?: boolean } = {}): Promise<HeartbeatServer> {
  const server = await HeartbeatServer.listen(socketPath, opts);
  servers.push(server);
  return server;
}

function vigilEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { VIGIL_SERVICE: "agent", VIGIL_TOKEN: "secret-1", VIGIL_SOCKET: socketPath, VIGIL_HEARTBEAT_MS: "200", ...extra };
}

const ticks = (stdout: string): number => stdout.split("\n").filter((l) => l.startsWith("tick ")).length;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-client-"));
  socketPath = join(dir, "heartbeat.sock");
});

afterEach(async () => {
  killStarted();
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => {})));
  await rm(dir, { recursive: true, force: true });
});

describe("heartbeat() over the socket", () => {
  it("sends ready, status and automatic beats every half interval, signed with service and token, and stopping on stop()", async () => {
    const server = await listen();
    const child = runScript(WORKER, vigilEnv({ STOP_ON_END: "1" }));

    await waitFor("six beats", () => server.ofType("beat").length >= 6);
    expect(child.stdout).toContain("transport socket");
    const types = server.received.map((r) => r.message["type"]);
    expect(types.slice(0, 2)).toEqual(["ready", "status"]);
    // while the client connects, a newer status replaces the one waiting (only the latest is sent): on a
    // busy machine the ticks may have begun before the connection was made
    const said = server.ofType("status").map((r) => String(r.message["text"]));
    expect(said[0]).toMatch(/^(warming up|tick \d+)$/);
    const ticks = said.filter((t) => t.startsWith("tick ")).map((t) => Number(t.slice(5)));
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks).toEqual([...ticks].sort((a, b) => a - b));
    for (const { message } of server.received) expect(message).toMatchObject({ service: "agent", token: "secret-1" });
    const beats = server.ofType("beat");
    expect(beats.at(-1)?.message["data"]).toEqual({ loop: expect.any(Number) });
    const gaps = beats.slice(1).map((b, i) => b.atMs - beats[i]!.atMs);
    const median = gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
    // every half of the 200 ms interval: not faster, and well inside the interval (a busy machine stretches it)
    expect(median).toBeGreaterThan(60);
    expect(median).toBeLessThan(400);

    child.child.stdin?.end();
    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
    await waitFor("stopping", () => server.ofType("stopping").length === 1);
    expect(server.received.at(-1)?.message["type"]).toBe("stopping");
    expect(child.stderr).toBe("");
  });

  it("reports a task's start (with its name), progress and end; nothing after its end", async () => {
    const server = await listen();
    const code = `import { heartbeat } from ${JSON.stringify(CLIENT)};
      const hb = heartbeat({ auto: false });
      const task = hb.task("req-42", "summarise");
      task.progress(); task.end(); task.end(); task.progress();
      setTimeout(() => hb.stop(), 100);`;
    const child = runScript(code, vigilEnv(), { stdio: ["ignore", "pipe", "pipe"] });

    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
    await waitFor("stopping", () => server.ofType("stopping").length === 1);
    const signed = { service: "agent", token: "secret-1", type: "task", id: "req-42" };
    expect(server.ofType("task").map((r) => r.message)).toEqual([
      { ...signed, event: "start", name: "summarise" },
      { ...signed, event: "progress" },
      { ...signed, event: "end" },
    ]);
  });

  it("keeps nothing alive: the child exits by itself when its work is done, without stop()", async () => {
    const server = await listen();
    const code = `import { heartbeat } from ${JSON.stringify(CLIENT)};
      const hb = heartbeat(); hb.ready(); setTimeout(() => hb.status("done"), 300);`;
    const child = runScript(code, vigilEnv(), { stdio: ["ignore", "pipe", "pipe"] });

    expect(await child.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    await waitFor("the last status", () => server.ofType("status").length === 1);
    expect(server.ofType("ready")).toHaveLength(1);
    expect(server.ofType("beat").length).toBeGreaterThanOrEqual(2);
  });

  it("survives the supervisor going away and reconnects to a new one at the same path", async () => {
    const first = await listen();
    const child = runScript(WORKER, vigilEnv());
    await waitFor("beats on the first server", () => first.ofType("beat").length >= 2);

    await first.close();
    const ticksAtClose = ticks(child.stdout);
    await waitFor("the child to keep working", () => ticks(child.stdout) >= ticksAtClose + 10);
    expect(child.exit).toBeNull();

    const second = await listen();
    await waitFor("beats on the second server", () => second.ofType("beat").length >= 2);
    // while disconnected only the latest status was kept
    expect(second.ofType("status").length).toBeLessThan(ticks(child.stdout) - ticksAtClose);
    for (const { message } of second.received) expect(message).toMatchObject({ service: "agent", token: "secret-1" });

    child.child.stdin?.end();
    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
    expect(child.stderr).toBe("");
  });

  it("never throws: data JSON cannot encode, or over the supervisor's bounds, is dropped and the beat still goes out", async () => {
    const server = await listen();
    const code = `import { heartbeat } from ${JSON.stringify(CLIENT)};
      const hb = heartbeat({ auto: false, data: () => { throw new Error("no data today"); } });
      const circular = {}; circular.self = circular;
      const deep = JSON.parse("[".repeat(33) + "]".repeat(33));
      hb.beat(circular); hb.beat({ big: "x".repeat(70_000) }); hb.beat(10n); hb.beat(deep); hb.beat({ over: "z".repeat(17_000) });
      hb.status("y".repeat(70_000));
      setTimeout(() => hb.stop(), 200);`;
    const child = runScript(code, vigilEnv(), { stdio: ["ignore", "pipe", "pipe"] });

    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
    expect(child.stderr).toBe("");
    await waitFor("stopping", () => server.ofType("stopping").length === 1);
    for (const { message } of server.ofType("beat")) expect(message).toEqual({ service: "agent", token: "secret-1", type: "beat" });
    expect(server.ofType("beat").length).toBeGreaterThanOrEqual(1);
    expect((server.ofType("status")[0]?.message["text"] as string).length).toBeLessThan(64 * 1024);
  });

  it.each([
    ["missing", async () => {}],
    ["refusing", async () => writeFile(socketPath, "not a socket")],
  ])("runs unchanged when the socket is %s", async (_, prepare) => {
    await prepare();
    const child = runScript(WORKER, vigilEnv({ STOP_ON_END: "1" }));
    await waitFor("ticks", () => ticks(child.stdout) >= 15);
    child.child.stdin?.end();
    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
    expect(child.stderr).toBe("");
  });

  it("keeps memory bounded, and still lets the child exit, while the supervisor does not read", async () => {
    await listen({ paused: true });
    const code = `import { heartbeat } from ${JSON.stringify(CLIENT)};
      const hb = heartbeat({ auto: false });
      const big = "x".repeat(8000);
      const heap = () => { globalThis.gc(); const m = process.memoryUsage(); return m.heapUsed + m.external + m.arrayBuffers; };
      const before = heap();
      for (let round = 0; round < 50; round++) {
        for (let i = 0; i < 100; i++) { hb.beat({ big, i }); hb.status(big + i); }
        await new Promise((r) => setTimeout(r, 1));
      }
      console.log(JSON.stringify({ grewBytes: heap() - before }));`;
    const child = runScript(code, vigilEnv(), { stdio: ["ignore", "pipe", "pipe"] }, ["--expose-gc"]);

    // a stuck write is given up after a second rather than holding the child (the bound is for a busy
    // machine, where the child's own work takes seconds)
    expect(await child.waitForExit(20_000)).toEqual({ code: 0, signal: null });
    // 5,000 beats and 5,000 statuses of 8 KB would be over 80 MB if they were queued
    const { grewBytes } = JSON.parse(child.stdout) as { grewBytes: number };
    expect(grewBytes).toBeLessThan(16 * 1024 * 1024);
  });
});

describe("heartbeat() without a supervisor", () => {
  it("is a no-op outside vigil", async () => {
    const code = `import { heartbeat } from ${JSON.stringify(CLIENT)};
      const hb = heartbeat(); hb.ready(); hb.beat({ a: 1 }); hb.status("x"); hb.stop(); hb.beat();
      console.log(hb.transport);`;
    const child = runScript(code, {}, { stdio: ["ignore", "pipe", "pipe"] });
    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
    expect(child.stdout.trim()).toBe("none");
  });
});

describe("heartbeat() over IPC", () => {
  it("sends ready, beats with data and stopping through process.send, and lets the child exit", async () => {
    const code = `import { heartbeat } from ${JSON.stringify(CLIENT)};
      let n = 0;
      const hb = heartbeat({ data: () => ({ loop: n }) });
      console.log(hb.transport);
      hb.ready();
      const work = setInterval(() => { if (++n === 30) { clearInterval(work); hb.stop(); } }, 20);`;
    const child = runScript(code, vigilEnv(), { stdio: ["ignore", "pipe", "pipe", "ipc"], serialization: "json" });
    const messages: Record<string, unknown>[] = [];
    child.child.on("message", (m: Record<string, unknown>) => messages.push(m));

    // the parent never disconnects: the child must exit on its own
    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
    await waitFor("stopping", () => messages.some((m) => m["type"] === "stopping"));
    expect(child.stdout.trim()).toBe("ipc");
    expect(messages[0]).toEqual({ service: "agent", token: "secret-1", type: "ready" });
    const beats = messages.filter((m) => m["type"] === "beat");
    expect(beats.length).toBeGreaterThanOrEqual(4);
    expect(beats.at(-1)).toMatchObject({ service: "agent", token: "secret-1", data: { loop: expect.any(Number) } });
    expect(messages.at(-1)?.["type"]).toBe("stopping");
  });
});
