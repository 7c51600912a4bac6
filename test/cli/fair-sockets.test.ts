// One local client must not harm another: a crowd of idle connections, a beat of absurd data or a
// client that never reads its answers costs that client, never the stack.
import { readFile } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { request } from "../../src/control/client.js";
import type { StatusDocument } from "../../src/control/status-document.js";
import { Crowd, rssBytes } from "../support/crowd.js";
import { useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

async function tokenOf(dir: string, file: string): Promise<string> {
  await waitUntil(async () => (await readFile(join(dir, file), "utf8").catch(() => "")).trim().length > 0, `${file} written`);
  return (await readFile(join(dir, file), "utf8")).trim();
}

function send(path: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path, () => c.end(text, () => resolve()));
    c.on("error", reject);
  });
}

describe("the heartbeat socket under a crowd", () => {
  it("keeps taking the beats of a service that connects for each beat while 4,100 connections sit idle", async () => {
    const s = await stack(`
version: 1
services:
  beater:
    command: sh -c 'while :; do vigil beat; sleep 0.2; done'
    heartbeat: { via: socket, interval: 2s, misses: 5 }
    restart: { policy: always, backoff: { initial: 0 } }
`);
    s.start();
    const first = await s.waitFor("beater", (x) => x.beats >= 1, "to beat");
    // an attacker who opens a new connection for every one the supervisor closes
    const crowd = await Crowd.open({ path: join(s.stateDir, "heartbeat.sock") }, 4100, { refill: true });
    try {
      const before = (await s.service("beater"))!.beats;
      const after = await s.waitFor("beater", (x) => x.beats >= before + 10, "to keep beating through the crowd", 40_000);
      expect(after.pid).toBe(first.pid);
      expect(after.restarts).toBe(0);
      expect(after.last_exit).toBeNull();
      const doc = (await s.statusFile())!;
      expect(doc.supervisor.connections?.heartbeat.evicted).toBeGreaterThanOrEqual(10);
      expect(doc.supervisor.connections?.heartbeat.open).toBeLessThanOrEqual(4096);
      expect(doc.supervisor.rejected_messages).toBeGreaterThanOrEqual(doc.supervisor.connections?.heartbeat.evicted ?? Infinity);
    } finally {
      crowd.close();
    }
  }, 60_000);
});

describe("beat data", () => {
  it("refuses a beat whose data is nested 10,000 deep, and status still answers for the whole stack", async () => {
    const s = await stack(`
version: 1
services:
  victim:
    command: sh -c 'echo "$VIGIL_TOKEN" > token.txt; exec sleep 300'
  other:
    command: sleep 300
`);
    s.start();
    await s.waitFor("victim", (x) => x.state === "running", "to run");
    const other = await s.waitFor("other", (x) => x.state === "running", "to run");
    const token = await tokenOf(s.dir, "token.txt");
    const sock = join(s.stateDir, "heartbeat.sock");
    const beat = (data: string): string => `{"service":"victim","token":"${token}","type":"beat","data":${data}}\n`;
    await send(sock, beat('{"n":1}'));
    await s.waitFor("victim", (x) => x.beats === 1, "to count a good beat");
    await send(sock, beat(`${"[".repeat(10_000)}${"]".repeat(10_000)}`));
    // status.json goes on being written, and says the deep beat was refused
    const victim = await s.waitFor("victim", (x) => x.rejected_messages === 1, "to count the deep beat as rejected");
    expect(victim.beats).toBe(1);
    expect(victim.last_beat_data).toEqual({ n: 1 });
    const status = await s.run(["status", "--json"]);
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
    const doc = JSON.parse(status.stdout) as { services: { name: string; pid: number }[] };
    expect(doc.services.find((x) => x.name === "other")?.pid).toBe(other.pid);
    expect(s.stderr).toMatch(/rejected heartbeat input: .*nested deeper than 32/);
  });
});

describe("beat data over IPC", () => {
  it("refuses a beat nested 10,000 deep on a child's IPC channel, and status still answers", async () => {
    const s = await stack(
      `
version: 1
services:
  deep:
    command: python3 deep.py
    heartbeat: { via: ipc, interval: 10s }
`,
      {
        "deep.py": `
import os, time
fd = int(os.environ["NODE_CHANNEL_FD"])
os.write(fd, b'{"type":"beat","data":{"n":1}}\\n')
os.write(fd, b'{"type":"beat","data":' + b"[" * 10000 + b"]" * 10000 + b'}\\n')
time.sleep(300)
`,
      },
    );
    s.start();
    const deep = await s.waitFor("deep", (x) => x.rejected_messages === 1, "to refuse the deep beat");
    expect(deep.beats).toBe(1);
    expect(deep.last_beat_data).toEqual({ n: 1 });
    const status = await s.run(["status", "--json"]);
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
  });
});

describe("the control socket", () => {
  const TEN_SLEEPERS = `
version: 1
services:
${Array.from({ length: 10 }, (_, i) => `  sleeper-${i}: { command: sleep 30${i} }`).join("\n")}
`;

  it("keeps its memory bounded while a client pipelines status requests and never reads the answers", async () => {
    const s = await stack(TEN_SLEEPERS);
    const up = s.start();
    await s.waitFor("sleeper-9", (x) => x.state === "running", "to run");
    const baseline = rssBytes(up.pid!);
    const flood: Socket = await new Promise((resolve, reject) => {
      const c = createConnection(join(s.stateDir, "control.sock"), () => resolve(c));
      c.on("error", reject);
    });
    flood.on("error", () => undefined);
    // never read: the answers pile up wherever the supervisor lets them
    flood.pause();
    try {
      flood.write('{"cmd":"status"}\n'.repeat(50_000));
      // until the supervisor has taken every request, or has taken none over two other requests
      let pending = flood.writableLength;
      for (let quiet = 0; flood.writableLength > 0 && quiet < 2; ) {
        await request(s.stateDir, { cmd: "ping" });
        quiet = flood.writableLength === pending ? quiet + 1 : 0;
        pending = flood.writableLength;
      }
      for (let i = 0; i < 20; i++) await request(s.stateDir, { cmd: "status" });
      expect((await s.run(["status"])).code).toBe(0);
      const grownBytes = rssBytes(up.pid!) - baseline;
      expect(grownBytes).toBeLessThan(64 * 1024 * 1024);
    } finally {
      flood.destroy();
    }
  }, 60_000);

  it("answers status and down while a crowd of idle connections sits on the control socket", async () => {
    const s = await stack(TEN_SLEEPERS);
    s.start();
    const one = await s.waitFor("sleeper-0", (x) => x.state === "running", "to run");
    const crowd = await Crowd.open({ path: join(s.stateDir, "control.sock") }, 260, { refill: true });
    try {
      const status = await s.run(["status", "sleeper-0"]);
      expect(status.stderr).toBe("");
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`^sleeper-0\\s+running\\s+unknown\\s+${one.pid}`, "m"));
      const doc = JSON.parse((await s.run(["status", "--json"])).stdout) as StatusDocument;
      expect(doc.supervisor.connections?.control.evicted).toBeGreaterThanOrEqual(1);
      expect(doc.supervisor.connections?.http).toBeNull();
      const down = await s.run(["down"]);
      expect(down.stderr).toBe("");
      expect(down.code).toBe(0);
      expect(await s.exited()).toBe(0);
    } finally {
      crowd.close();
    }
  });
});
