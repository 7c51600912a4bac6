import { readFile } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

// Beats three times, then stays alive but silent: the hang a PID check cannot see.
const SOCKET_BEATER = `
const net = require("node:net");
const s = net.createConnection(process.env.VIGIL_SOCKET);
let n = 0;
const t = setInterval(() => {
  s.write(JSON.stringify({ service: process.env.VIGIL_SERVICE, token: process.env.VIGIL_TOKEN, type: "beat", data: { n: ++n } }) + "\\n");
  if (n >= 3) clearInterval(t);
}, 50);
setInterval(() => {}, 1000);
`;

const IPC_BEATER = `
let n = 0;
const t = setInterval(() => {
  process.send({ type: "beat", data: { n: ++n } });
  if (n >= 3) clearInterval(t);
}, 50);
setInterval(() => {}, 1000);
`;

const HEARTBEAT = "heartbeat: { via: VIA, interval: 200ms, misses: 3, startup_grace: 1s }";

describe("heartbeats", () => {
  for (const [via, script] of [["socket", SOCKET_BEATER], ["ipc", IPC_BEATER]] as const) {
    it(`restarts a child whose beats over ${via} stop, with reason heartbeat, keeping the beat data`, async () => {
      const s = await stack(
        `
version: 1
services:
  hanger:
    command: node beater.cjs
    ${HEARTBEAT.replace("VIA", via)}
    restart: { policy: always, backoff: { initial: 0 } }
  bystander:
    command: sleep 300
`,
        { "beater.cjs": script },
      );
      s.start();
      const first = await s.waitFor("hanger", (x) => x.state === "running", "to run");
      const beating = await s.waitFor("hanger", (x) => x.beats >= 3, "to beat 3 times");
      expect(beating.last_beat_data).toMatchObject({ n: expect.any(Number) });
      expect(Date.parse(beating.last_beat_at ?? "")).toBeGreaterThan(Date.now() - 10_000);
      const bystander = await s.waitFor("bystander", (x) => x.state === "running", "to run");
      const restarted = await s.waitFor("hanger", (x) => x.restarts >= 1 && x.last_exit?.reason === "heartbeat", "to be restarted for silence");
      expect(restarted.pid).not.toBe(first.pid);
      expect(s.stderr).toMatch(/hanger: heartbeat: no heartbeat for \d+ ms \(interval 200 ms, misses 3\); restarting/);
      expect((await s.service("bystander"))?.pid).toBe(bystander.pid);
      expect(bystander.health).toBe("unknown");
    });
  }

  it("replaces a frozen (SIGSTOPped) beating child with SIGTERM at once, not after stop.timeout", async () => {
    const s = await stack(
      `
version: 1
services:
  frozen:
    command: node beater.cjs
    heartbeat: { via: socket, interval: 300ms, misses: 3, startup_grace: 2s }
    restart: { policy: always, backoff: { initial: 0 } }
    stop: { timeout: 60s }
`,
      { "beater.cjs": `
const net = require("node:net");
const s = net.createConnection(process.env.VIGIL_SOCKET);
setInterval(() => s.write(JSON.stringify({ service: process.env.VIGIL_SERVICE, token: process.env.VIGIL_TOKEN, type: "beat" }) + "\\n"), 100);
` },
    );
    s.start();
    const first = await s.waitFor("frozen", (x) => x.beats >= 2, "to beat");
    process.kill(first.pid!, "SIGSTOP");
    // with stop.timeout 60s, only SIGCONT after the stop signal lets the frozen child act on its SIGTERM in time
    const next = await s.waitFor("frozen", (x) => x.restarts >= 1 && x.state === "running", "to be replaced", 10_000);
    expect(next.pid).not.toBe(first.pid);
    expect(next.last_exit).toMatchObject({ reason: "heartbeat", signal: "SIGTERM" });
  });

  it("shows a restarted child's own beats, not the last ones of the child before it", async () => {
    const s = await stack(`
version: 1
services:
  once:
    command: sh -c 'if [ -e ran ]; then exec sleep 300; fi; touch ran; vigil beat --data "{\\"n\\":1}" && vigil beat --status "old" && exit 1'
    heartbeat: { via: socket, interval: 5s }
    restart: { policy: on-failure, backoff: { initial: 0 } }
`);
    s.start();
    const second = await s.waitFor("once", (x) => x.restarts === 1 && x.state === "running", "to run a second time");
    expect(second).toMatchObject({ beats: 0, last_beat_at: null, last_beat_data: null, status_text: null });
  });

  it("takes beats from a shell child through vigil beat, found on its PATH", async () => {
    const s = await stack(`
version: 1
services:
  shell:
    command: sh -c 'vigil beat --ready && vigil beat --status "warming up" && vigil beat --data "{\\"n\\":7}" && exec sleep 300'
    heartbeat: { via: socket, interval: 5s }
`);
    s.start();
    const shell = await s.waitFor("shell", (x) => x.beats >= 2 && x.status_text === "warming up", "to beat twice");
    expect(shell.last_beat_data).toEqual({ n: 7 });
    expect(shell.health).toBe("healthy");
    expect(shell.rejected_messages).toBe(0);
  });

  it("gets the output of a Python child that never flushes, so log staleness does not kill it", async () => {
    const s = await stack(`
version: 1
services:
  py:
    command: [python3, -c, "import time\\nwhile True:\\n    print('tick')\\n    time.sleep(0.1)"]
    # a block-buffered Python would hold its first 800 ticks (80 s) back; 5 s leaves room for a slow start
    # (python3 may be a shell shim that forks a few times before the interpreter runs)
    logs: { stale_after: 5s }
  own:
    command: sh -c 'echo "unbuffered=$PYTHONUNBUFFERED"; exec sleep 300'
    env: { PYTHONUNBUFFERED: "0" }
`);
    // as in a shell that does not set it (some machines do, for every process)
    s.start([], { PYTHONUNBUFFERED: undefined });
    await waitUntil(() => (s.stdout.match(/^py +\| tick$/gm) ?? []).length >= 20, () => `20 ticks from py\n${s.stdout}\n${s.stderr}`);
    expect((await s.service("py"))?.restarts).toBe(0);
    // the manifest's own value stands
    expect(s.stdout).toMatch(/^own +\| unbuffered=0$/m);
  });
});

describe("hostile heartbeat input", () => {
  it("survives garbage on a child's IPC channel, counting it", async () => {
    const s = await stack(
      `
version: 1
services:
  noisy:
    command: python3 noisy.py
    heartbeat: { via: ipc, interval: 10s }
  calm:
    command: sleep 300
`,
      {
        "noisy.py": `
import os, json, time
fd = int(os.environ["NODE_CHANNEL_FD"])
os.write(fd, b"garbage{{{\\n" + b"x" * 100000 + b"\\n")
os.write(fd, (json.dumps({"type": "beat", "data": {"from": "python"}}) + "\\n").encode())
time.sleep(300)
`,
      },
    );
    s.start();
    const calm = await s.waitFor("calm", (x) => x.state === "running", "to run");
    const noisy = await s.waitFor("noisy", (x) => x.beats === 1 && x.rejected_messages >= 1, "to count one beat and the garbage");
    expect(noisy.last_beat_data).toEqual({ from: "python" });
    expect(noisy.health).toBe("healthy");
    expect((await s.service("calm"))?.pid).toBe(calm.pid);
    expect((await s.run(["status", "--json"])).code).toBe(0);
  });

  it("takes no piece of an IPC line over 64 KiB for a message: the line is refused whole", async () => {
    const s = await stack(
      `
version: 1
services:
  long:
    command: python3 long.py
    heartbeat: { via: ipc, interval: 10s }
`,
      {
        // 65,536 bytes of a status message, then a beat on the same line: cut at 64 KiB, the beat would pass
        "long.py": `
import os, json, time
fd = int(os.environ["NODE_CHANNEL_FD"])
head, tail = b'{"type":"status","text":"', b'"}'
os.write(fd, head + b"p" * (65536 - len(head) - len(tail)) + tail + b'{"type":"beat","data":{"smuggled":1}}\\n')
os.write(fd, (json.dumps({"type": "beat", "data": {"whole": 1}}) + "\\n").encode())
time.sleep(300)
`,
      },
    );
    s.start();
    const long = await s.waitFor("long", (x) => x.beats >= 1 && x.rejected_messages >= 1, "to count a beat and the long line");
    expect(long).toMatchObject({ beats: 1, rejected_messages: 1, last_beat_data: { whole: 1 }, status_text: null });
    await waitUntil(async () => /rejected heartbeat input: a line over 64 KiB/.test(s.stderr), "the long line logged");
  });

  const MANIFEST = `
version: 1
services:
  victim:
    command: sh -c 'echo "$VIGIL_TOKEN" > token-$$$$.txt; echo "$VIGIL_TOKEN" > token.txt; exec sleep 300'
  other:
    command: sleep 300
`;

  async function connect(path: string): Promise<Socket> {
    return await new Promise((resolve, reject) => {
      const c = createConnection(path, () => resolve(c));
      c.on("error", reject);
    });
  }

  async function send(path: string, text: string): Promise<void> {
    const c = await connect(path);
    await new Promise<void>((r) => c.end(text, () => r()));
  }

  it("counts and survives garbage, strangers, wrong and old tokens, endless lines and idle connections", async () => {
    const s = await stack(MANIFEST);
    s.start();
    const victim = await s.waitFor("victim", (x) => x.state === "running", "to run");
    const other = await s.waitFor("other", (x) => x.state === "running", "to run");
    const sock = join(s.stateDir, "heartbeat.sock");
    await waitUntil(async () => (await readFile(join(s.dir, "token.txt"), "utf8").catch(() => "")).trim().length > 0, "token written");
    const token = (await readFile(join(s.dir, "token.txt"), "utf8")).trim();
    const line = (o: object): string => `${JSON.stringify(o)}\n`;

    await send(sock, line({ service: "victim", token, type: "beat", data: { ok: 1 } }));
    await s.waitFor("victim", (x) => x.beats === 1, "to count a good beat");

    await send(sock, "this is not json\n{\"half\": \n");
    await send(sock, line({ service: "nobody", token, type: "beat" }));
    await send(sock, line({ service: "victim", token: "0".repeat(32), type: "beat" }));
    await send(sock, line({ service: "other", token, type: "beat" })); // victim's token naming another service
    await send(sock, line({ service: "victim", token, type: "dance" }));
    await s.waitFor("victim", (x) => x.rejected_messages >= 1, "to count rejected messages");

    // an endless line: the connection is dropped once it passes 64 KiB
    const endless = await connect(sock);
    const closed = new Promise<void>((r) => endless.on("close", () => r()));
    endless.on("error", () => undefined);
    const chunk = "x".repeat(16 * 1024);
    for (let i = 0; i < 8 && !endless.destroyed; i++) endless.write(chunk);
    await closed;

    // many connections, some never writing
    const idle = await Promise.all(Array.from({ length: 300 }, () => connect(sock)));

    // an old token: restart victim, then beat with the token of the previous child
    const restart = await s.run(["restart", "victim"]);
    expect(restart.code).toBe(0);
    await s.waitFor("victim", (x) => x.state === "running" && x.pid !== victim.pid, "to run anew");
    await waitUntil(async () => (await readFile(join(s.dir, "token.txt"), "utf8")).trim() !== token, "new token written");
    await send(sock, line({ service: "victim", token, type: "beat" }));

    const doc = (await s.statusFile())!;
    await waitUntil(async () => ((await s.statusFile())?.supervisor.rejected_messages ?? 0) >= 8, "all rejections counted");
    const after = (await s.statusFile())!;
    expect(after.supervisor.rejected_messages).toBeGreaterThanOrEqual(8);
    const v = after.services.find((x) => x.name === "victim")!;
    // the new child has not beaten, and the beat with its predecessor's token was not taken for it
    expect(v.beats).toBe(0);
    expect(v.last_beat_data).toBeNull();
    expect(doc).toBeTruthy();
    const o = after.services.find((x) => x.name === "other")!;
    expect(o.pid).toBe(other.pid);
    expect(o.beats).toBe(0);
    const status = await s.run(["status", "--json"]);
    expect(status.code).toBe(0);
    expect(s.stderr).toMatch(/rejected heartbeat input: a line that is not JSON/);
    for (const c of idle) c.destroy();
  });
});
