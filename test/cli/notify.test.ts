// heartbeat.via: notify with unmodified programs that speak the systemd notify protocol: redis-server
// (libsystemd-free, its own sd_notify) and systemd-notify (libsystemd, with its BARRIER=1 handshake).
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useDatagrams } from "../support/datagrams.js";
import { freePort } from "../support/net.js";
import { lacking } from "../support/programs.js";
import { useStacks } from "../support/stack.js";

const stack = useStacks();
const datagrams = useDatagrams();

// READY=1 once, then WATCHDOG=1 every 100 ms; records what it was told of the protocol
const PINGER = `#!/bin/sh
echo "$NOTIFY_SOCKET" > socket.txt
echo "usec=$WATCHDOG_USEC pid=\${WATCHDOG_PID-unset}" > env.txt
systemd-notify --ready --status="pinging"
while :; do systemd-notify WATCHDOG=1; sleep 0.1; done
`;

describe("heartbeat.via: notify", () => {
  it.skipIf(lacking("redis-server"))("takes redis-server --supervised systemd as healthy on its READY=1, and starts what waits for it", async () => {
    const port = await freePort();
    const s = await stack(`
version: 1
services:
  redis:
    command: redis-server --port ${port} --bind 127.0.0.1 --save "" --appendonly no --daemonize no --supervised systemd
    # redis says READY=1 and STATUS= but never pings the watchdog: a long interval
    heartbeat: { via: notify, interval: 1h, startup_grace: 30s }
  app:
    command: sleep 300
    depends_on: { redis: healthy }
`);
    s.start();
    const redis = await s.waitFor("redis", (x) => x.health === "healthy", "to be healthy");
    expect(redis.status_text).toBe("Ready to accept connections");
    expect(redis.rejected_messages).toBe(0);
    await s.waitFor("app", (x) => x.state === "running", "to start once redis is ready");
    const app = await s.service("app");
    expect(app?.pid).toBeGreaterThan(0);
  });

  it.skipIf(lacking("systemd-notify"))("takes systemd-notify's READY=1 and WATCHDOG=1, and restarts the service when the pings stop", async () => {
    const s = await stack(
      `
version: 1
services:
  pinger:
    command: ./pinger.sh
    heartbeat: { via: notify, interval: 1s, misses: 3, startup_grace: 10s }
    restart: { policy: always, backoff: { initial: 0 } }
    stop: { timeout: 30s }
  bystander:
    command: sleep 300
`,
      { "pinger.sh": PINGER },
    );
    s.start();
    const first = await s.waitFor("pinger", (x) => x.health === "healthy" && x.beats >= 3, "to ping");
    expect(first.status_text).toBe("pinging");
    expect(first.rejected_messages).toBe(0);
    expect(await readFile(join(s.dir, "env.txt"), "utf8")).toBe("usec=1000000 pid=unset\n");
    const socket = (await readFile(join(s.dir, "socket.txt"), "utf8")).trim();
    expect(socket.startsWith(join(s.stateDir, "notify"))).toBe(true);
    expect((await stat(socket)).mode & 0o777).toBe(0o600);
    const bystander = await s.waitFor("bystander", (x) => x.state === "running", "to run");

    // frozen: the loop stops pinging; SIGCONT after the stop signal lets the shell act on SIGTERM
    process.kill(first.pid!, "SIGSTOP");
    const next = await s.waitFor("pinger", (x) => x.restarts >= 1 && x.health === "healthy", "to be restarted and ping again", 20_000);
    expect(next.pid).not.toBe(first.pid);
    expect(next.last_exit).toMatchObject({ reason: "heartbeat" });
    expect(s.stderr).toMatch(/pinger: heartbeat: no heartbeat for \d+ ms \(interval 1000 ms, misses 3\)/);
    // a new socket for the new child: the old one is gone
    const second = (await readFile(join(s.dir, "socket.txt"), "utf8")).trim();
    expect(second).not.toBe(socket);
    await expect(stat(socket)).rejects.toThrow(/ENOENT/);
    expect((await s.service("bystander"))?.pid).toBe(bystander.pid);
  });

  it.skipIf(lacking("systemd-notify"))("restarts at once, with reason heartbeat, a child that says WATCHDOG=trigger", async () => {
    const s = await stack(`
version: 1
services:
  quitter:
    command: sh -c 'systemd-notify --ready; if [ ! -e triggered ]; then touch triggered; systemd-notify WATCHDOG=trigger; fi; exec sleep 300'
    heartbeat: { via: notify, interval: 1h }
    restart: { policy: always, backoff: { initial: 0 } }
`);
    s.start();
    const again = await s.waitFor("quitter", (x) => x.restarts === 1 && x.health === "healthy", "to be restarted once");
    expect(again.last_exit).toMatchObject({ reason: "heartbeat" });
    expect(s.stderr).toMatch(/WATCHDOG=trigger/);
  });

  describe("hostile input on a notify socket", () => {
    async function pinging() {
      const s = await stack(
        `
version: 1
services:
  pinger:
    command: ./pinger.sh
    heartbeat: { via: notify, interval: 1s, misses: 3, startup_grace: 10s }
  bystander:
    command: sleep 300
    heartbeat: { via: socket, interval: 5s }
`,
        { "pinger.sh": PINGER },
      );
      s.start();
      const before = await s.waitFor("pinger", (x) => x.health === "healthy" && x.beats >= 2, "to ping");
      const bystander = await s.waitFor("bystander", (x) => x.state === "running", "to run");
      const socket = (await readFile(join(s.dir, "socket.txt"), "utf8")).trim();
      /** what the attack must not have touched */
      const unharmed = async () => {
        const after = await s.waitFor("pinger", (x) => x.beats > before.beats + 2, "to go on pinging");
        expect(after).toMatchObject({ pid: before.pid, restarts: 0, health: "healthy", state: "running" });
        expect(await s.service("bystander")).toMatchObject({ pid: bystander.pid, restarts: 0, rejected_messages: 0 });
      };
      return { s, socket, unharmed };
    }

    it.skipIf(lacking("systemd-notify"))("counts garbage datagrams as rejected, and nothing else changes", async () => {
      const { s, socket, unharmed } = await pinging();
      const sent = await datagrams.send(socket, [Buffer.from([0xff, 0xfe, 0x00, 0x01]), "hello", "READY=maybe", "", "=\n=\n"]);
      await s.waitFor("pinger", (x) => x.rejected_messages === sent, `to count ${sent} rejects`);
      await unharmed();
      expect(s.stderr).toMatch(/notify datagram that is not UTF-8 text/);
    });

    it.skipIf(lacking("systemd-notify"))("refuses a datagram over 4 KiB whole, even one of valid assignments", async () => {
      const { s, socket, unharmed } = await pinging();
      await datagrams.send(socket, [`STATUS=${"x".repeat(5000)}`, Buffer.alloc(70_000, 0x41)]);
      const after = await s.waitFor("pinger", (x) => x.rejected_messages === 2, "to count 2 rejects");
      expect(after.status_text).toBe("pinging");
      await unharmed();
      expect(s.stderr).toMatch(/notify datagram over 4 KiB/);
    });

    it.skipIf(lacking("systemd-notify"))("takes a flood of datagrams as counts, and keeps supervising", async () => {
      const { s, socket, unharmed } = await pinging();
      const sent = await datagrams.send(socket, Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? "junk" : "NOT=VALID\n=")));
      expect(sent).toBe(20_000);
      await s.waitFor("pinger", (x) => x.rejected_messages === 20_000, "to count every datagram of the flood", 30_000);
      await unharmed();
      // the log says so at a bounded rate, not once a datagram
      const lines = (await readFile(join(s.stateDir, "vigil.log"), "utf8")).split("\n").filter((l) => l.includes("message-rejected"));
      expect(lines.length).toBeLessThan(20);
    });
  });
});
