// `vigil up` started as systemd starts a Type=notify service: NOTIFY_SOCKET names a datagram socket (the
// test's own stands in for systemd's) and WATCHDOG_USEC asks for pings.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useDatagrams, type Received } from "../support/datagrams.js";
import { sleep, useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();
const datagrams = useDatagrams();

const WATCHDOG_USEC = 400_000;
const PING_MS = WATCHDOG_USEC / 2000;

const MANIFEST = `
version: 1
services:
  db:
    command: sh -c 'sleep 0.3; exec sleep 300'
  app:
    command: sh -c 'echo "env ns=$\${NOTIFY_SOCKET-unset} wu=$\${WATCHDOG_USEC-unset} wp=$\${WATCHDOG_PID-unset}"; exec sleep 300'
    depends_on: [db]
    replicas: 2
`;

const pings = (received: readonly Received[], fromMs = 0, toMs = Infinity) =>
  received.filter((d) => d.text === "WATCHDOG=1" && d.atMs >= fromMs && d.atMs < toMs);

describe("vigil under systemd", () => {
  it("says READY=1, pings at half of WATCHDOG_USEC while its loop runs, and STOPPING=1 at the end", async () => {
    const s = await stack(MANIFEST);
    const socket = join(s.dir, "notify.sock");
    const { received } = datagrams.listen(socket);
    const up = s.start([], { NOTIFY_SOCKET: socket, WATCHDOG_USEC: String(WATCHDOG_USEC), WATCHDOG_PID: undefined });

    await waitUntil(() => received.some((d) => d.text.startsWith("READY=1")), () => `READY=1; got ${JSON.stringify(received)}\n${s.stderr}`);
    expect(received.find((d) => d.text.startsWith("READY=1"))?.text).toBe("READY=1\nSTATUS=3 running");
    // the children are not told of vigil's manager
    await waitUntil(() => (s.stdout.match(/env ns=/g) ?? []).length === 2, () => `both app instances' env\n${s.stdout}`);
    expect(s.stdout).toMatch(/app\.0 +\| env ns=unset wu=unset wp=unset/);

    // the rate: counted over a window of 3 s (15 pings due), with bounds for a loaded machine
    const fromMs = Date.now();
    await waitUntil(() => Date.now() - fromMs >= 3_000 && pings(received, fromMs).length > 0, "a 3 s window of pings", 10_000);
    const counted = pings(received, fromMs, fromMs + 3_000).length;
    expect(counted).toBeGreaterThanOrEqual(9);
    expect(counted).toBeLessThanOrEqual(17);

    // a stopped loop stops the pings: none for over two intervals of WATCHDOG_USEC
    process.kill(up.pid!, "SIGSTOP");
    const stoppedAt = Date.now();
    await sleep(2.5 * (WATCHDOG_USEC / 1000));
    const during = pings(received, stoppedAt + 20);
    process.kill(up.pid!, "SIGCONT");
    expect(during).toEqual([]);
    const resumedAt = Date.now();
    await waitUntil(() => pings(received, resumedAt).length >= 2, "pings after SIGCONT");

    up.kill("SIGTERM");
    expect(await s.exited()).toBe(0);
    const texts = received.map((d) => d.text);
    expect(texts).toContain("STOPPING=1\nSTATUS=stopping");
    // nothing but pings between READY and STOPPING is a STATUS= summary
    expect(texts.filter((t) => !t.startsWith("READY=1") && !t.startsWith("STOPPING=1") && t !== "WATCHDOG=1").every((t) => /^STATUS=[0-9]+ [a-z]+(, [0-9]+ [a-z]+)*$/.test(t))).toBe(true);
    expect(PING_MS).toBe(200);
  });

  it("sends a new STATUS= when the stack changes, and no pings for another pid's watchdog", async () => {
    const s = await stack(MANIFEST);
    const socket = join(s.dir, "notify.sock");
    const { received } = datagrams.listen(socket);
    s.start([], { NOTIFY_SOCKET: socket, WATCHDOG_USEC: String(WATCHDOG_USEC), WATCHDOG_PID: "1" });
    await waitUntil(() => received.some((d) => d.text.startsWith("READY=1")), () => `READY=1\n${s.stderr}`);
    const stopped = await s.run(["stop", "app.1"]);
    expect(stopped.code).toBe(0);
    await waitUntil(() => received.some((d) => d.text === "STATUS=2 running, 1 stopped"), () => `the new summary; got ${JSON.stringify(received.map((d) => d.text))}`);
    expect(pings(received)).toEqual([]);
  });
});
