import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Input } from "../../../src/core/stack/inputs.js";
import type { Logger } from "../../../src/runtime/outputs/logger.js";
import { MAX_SOCKET_PATH_BYTES, NotifySockets } from "../../../src/runtime/notify/notify-sockets.js";
import { useDatagrams } from "../../support/datagrams.js";

const datagrams = useDatagrams();
const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

function sockets(stateDir: string) {
  const posted: Input[] = [];
  const logged: string[] = [];
  const logger: Logger = { log: (_l, _s, _e, msg) => void logged.push(msg), flush: async () => undefined };
  const notify = new NotifySockets(stateDir, (input) => void posted.push(input), logger);
  cleanup.push(() => notify.close());
  return { notify, posted, logged };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-notify-test-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
}

describe("NotifySockets", () => {
  it("tags what arrives on a child's socket with its instance and incarnation", async () => {
    const { notify, posted } = sockets(tempDir());
    const opened = notify.open("db#0", 3, "db");
    if (!opened.ok) throw new Error(opened.error);
    await datagrams.send(opened.path, ["READY=1\nSTATUS=up"]);
    await until(() => posted.length === 1);
    expect(posted[0]).toMatchObject({ type: "NotifyReceived", id: "db#0", incarnation: 3, datagram: { items: [{ kind: "status", text: "up" }, { kind: "ready" }] } });
  });

  it("puts the sockets in a private temporary directory when the state directory's path is too long", async () => {
    const long = join(tempDir(), "x".repeat(60), "y".repeat(60));
    mkdirSync(long, { recursive: true });
    const { notify, posted, logged } = sockets(long);
    const opened = notify.open("db#0", 1, "db");
    if (!opened.ok) throw new Error(opened.error);
    expect(Buffer.byteLength(opened.path)).toBeLessThanOrEqual(MAX_SOCKET_PATH_BYTES);
    expect(opened.path.startsWith(tmpdir())).toBe(true);
    expect(logged.join("\n")).toMatch(/too long for a socket path/);
    await datagrams.send(opened.path, ["WATCHDOG=1"]);
    await until(() => posted.length === 1);
  });

  it("closes and removes a child's socket when it has ended, not when an older child's end is reported", async () => {
    const { notify } = sockets(tempDir());
    const opened = notify.open("db#0", 2, "db");
    if (!opened.ok) throw new Error(opened.error);
    notify.ended("db#0", 1);
    await expect(datagrams.send(opened.path, ["WATCHDOG=1"])).resolves.toBe(1);
    notify.ended("db#0", 2);
    await expect(datagrams.send(opened.path, ["WATCHDOG=1"])).rejects.toThrow();
  });
});
