import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, Socket, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHeartbeatServer, type HeartbeatServer } from "../../../src/runtime/transports/heartbeat-socket.js";
import { readIntoShared, sharedReadBuffer } from "../../../src/runtime/transports/shared-read.js";
import { silentLogger } from "../../../src/runtime/outputs/logger.js";
import { realClock } from "../../../src/runtime/real-clock.js";

let dir: string;
const opened: { end(): void }[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-shared-read-"));
});

afterEach(() => {
  for (const o of opened.splice(0)) o.end();
  rmSync(dir, { recursive: true, force: true });
});

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const client = createConnection(path, () => resolve(client));
    client.once("error", reject);
    opened.push({ end: () => client.destroy() });
  });
}

/** resolves with the next value `wait` is given */
class Waiter<T> {
  readonly seen: T[] = [];
  #wanted: { readonly test: (v: T) => boolean; readonly resolve: (v: T) => void }[] = [];
  give = (value: T): void => {
    this.seen.push(value);
    this.#wanted = this.#wanted.filter((w) => (w.test(value) ? (w.resolve(value), false) : true));
  };
  until(test: (v: T) => boolean): Promise<T> {
    const found = this.seen.find(test);
    return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => this.#wanted.push({ test, resolve }));
  }
}

describe("readIntoShared", () => {
  it("moves an accepted connection into a socket read into the shared buffer, and counts it out of the server", async () => {
    const shared = sharedReadBuffer();
    const reads = new Waiter<string>();
    let direct: Socket | null = null;
    const server: Server = createServer({ pauseOnConnect: true }, (accepted) => {
      direct = readIntoShared(accepted, shared, (n, bytes) => {
        // the bytes are in the shared buffer itself, not in a Buffer made for the read
        expect(bytes).toBe(shared);
        reads.give(bytes.toString("utf8", 0, n));
      });
    });
    const path = join(dir, "s.sock");
    await new Promise<void>((resolve) => server.listen(path, resolve));
    opened.push({ end: () => server.close() });
    const client = await connect(path);
    client.write("hello\n");
    expect(await reads.until((t) => t.includes("hello"))).toBe("hello\n");
    // on this Node the fast path is taken: a test here fails when a new Node moves the handle elsewhere
    expect(direct).not.toBeNull();
    expect(direct!.listenerCount("data")).toBe(0);
    const count = await new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    expect(count).toBe(0);

    // paused, it reads nothing; resumed, what came meanwhile arrives
    direct!.pause();
    client.write("while paused\n");
    await new Promise((resolve) => client.write("", resolve));
    expect(reads.seen).toEqual(["hello\n"]);
    direct!.resume();
    await reads.until((t) => t.includes("while paused"));

    // the writer's end closes the socket, and the server closes with nothing left open
    const closed = new Promise((resolve) => direct!.once("close", resolve));
    client.end();
    await closed;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe("readIntoShared on a socket with no handle to move", () => {
  it("returns null and leaves the socket as it was, for the caller to read as a stream", () => {
    const socket = new Socket();
    expect(readIntoShared(socket, sharedReadBuffer(), () => undefined)).toBeNull();
    expect(socket.destroyed).toBe(false);
    socket.destroy();
  });
});

describe("the heartbeat socket read into one shared buffer", () => {
  async function start(): Promise<{ server: HeartbeatServer; messages: Waiter<Record<string, unknown>> }> {
    const messages = new Waiter<Record<string, unknown>>();
    const server = await startHeartbeatServer(
      join(dir, "hb.sock"),
      (m) => {
        messages.give(m as Record<string, unknown>);
        return "taken";
      },
      () => undefined,
      silentLogger,
      { clock: realClock, idleMs: () => 60_000 },
    );
    opened.push({ end: () => void server.close() });
    return { server, messages };
  }

  it("keeps a connection's partial line whole while other connections' reads fill the buffer", async () => {
    const { server, messages } = await start();
    const a = await connect(server.path);
    const b = await connect(server.path);
    a.write('{"service":"a","n":');
    b.write('{"service":"b","n":1}\n{"service":"b","n":2}\n{"service":"b","n":3,"pad":"');
    await messages.until((m) => m.service === "b" && m.n === 2);
    a.write('1}\n{"service":"a","n":2}\n');
    b.write('xyz"}\n');
    await messages.until((m) => m.service === "a" && m.n === 2);
    await messages.until((m) => m.service === "b" && m.n === 3);
    expect(messages.seen.filter((m) => m.service === "a")).toEqual([
      { service: "a", n: 1 },
      { service: "a", n: 2 },
    ]);
    expect(messages.seen.filter((m) => m.service === "b")).toEqual([
      { service: "b", n: 1 },
      { service: "b", n: 2 },
      { service: "b", n: 3, pad: "xyz" },
    ]);
  });

  it("takes a last line without its newline once the writer closes (printf %s | nc -U)", async () => {
    const { server, messages } = await start();
    const client = await connect(server.path);
    client.end('{"service":"a","n":1}\n{"service":"a","n":2}');
    await messages.until((m) => m.service === "a" && m.n === 2);
    expect(messages.seen).toEqual([
      { service: "a", n: 1 },
      { service: "a", n: 2 },
    ]);
  });

  it("takes every line of a flood larger than a turn's budget (the connection is paused and resumed)", async () => {
    const { server, messages } = await start();
    const client = await connect(server.path);
    const count = 6_000;
    let text = "";
    for (let i = 0; i < count; i++) text += `{"service":"flood","n":${i},"pad":"${"p".repeat(40)}"}\n`;
    expect(text.length).toBeGreaterThan(3 * 128 * 1024);
    client.write(text);
    await messages.until((m) => m.n === count - 1);
    expect(messages.seen.map((m) => m.n)).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  it("closes a connection whose writer is done, after its last line", async () => {
    const { server, messages } = await start();
    const client = await connect(server.path);
    expect(server.connections()).toBe(1);
    const closed = new Promise((resolve) => client.once("close", resolve));
    client.end('{"service":"last"}\n');
    await messages.until((m) => m.service === "last");
    await closed;
    expect(server.connections()).toBe(0);
  });
});
