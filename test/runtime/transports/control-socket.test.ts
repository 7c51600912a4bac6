import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ControlRequest } from "../../../src/control/protocol.js";
import { CONTROL_IDLE_MS, MAX_CONTROL_CONNECTIONS, startControlServer, type ControlAnswer, type ControlServer } from "../../../src/runtime/transports/control-socket.js";
import type { Logger } from "../../../src/runtime/outputs/logger.js";
import { realClock } from "../../../src/runtime/real-clock.js";
import { Crowd } from "../../support/crowd.js";
import { FakeClock } from "../../support/fake-clock.js";
import { waitUntil } from "../../support/stack.js";

const quiet: Logger = { log: () => undefined, flush: () => Promise.resolve() };

let dir: string;
let path: string;
let server: ControlServer | null = null;
const opened: Socket[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-control-"));
  path = join(dir, "control.sock");
});

afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await server?.close();
  server = null;
  await rm(dir, { recursive: true, force: true });
});

async function start(handler: (req: ControlRequest) => Promise<ControlAnswer>, clock = realClock): Promise<ControlServer> {
  server = await startControlServer(path, handler, quiet, { clock });
  return server;
}

function connect(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path, () => resolve(s));
    opened.push(s);
    s.on("error", reject);
  });
}

/** every answer line the socket receives, and whether the server has closed it */
function collect(s: Socket): { lines: unknown[]; closed: () => boolean } {
  const lines: unknown[] = [];
  let text = "";
  let closed = false;
  s.setEncoding("utf8");
  s.on("data", (chunk: string) => {
    text += chunk;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n")) {
      lines.push(JSON.parse(text.slice(0, nl)));
      text = text.slice(nl + 1);
    }
  });
  s.on("close", () => (closed = true));
  return { lines, closed: () => closed };
}

const later = <T>(value: T, ms: number): Promise<T> => new Promise((r) => setTimeout(() => r(value), ms));

describe("the control server", () => {
  it("answers pipelined requests in order, one at a time per connection", async () => {
    let running = 0;
    let most = 0;
    await start(async (req) => {
      running++;
      most = Math.max(most, running);
      // the first request is the slowest: answered concurrently, it would come last
      const names = req.cmd === "status" ? req.names ?? [] : [];
      const answer = await later({ ok: true as const, data: names }, names[0] === "0" ? 50 : 1);
      running--;
      return answer;
    });
    const s = await connect();
    const got = collect(s);
    s.write(Array.from({ length: 20 }, (_, i) => `${JSON.stringify({ cmd: "status", names: [String(i)] })}\n`).join(""));
    await waitUntil(() => got.lines.length === 20, "20 answers");
    expect(got.lines).toEqual(Array.from({ length: 20 }, (_, i) => ({ ok: true, data: [String(i)] })));
    expect(most).toBe(1);
  });

  it("answers everything a client sent before it half-closed, then ends the connection", async () => {
    await start(async () => later({ ok: true as const, data: "pong" }, 20));
    const s = await connect();
    const got = collect(s);
    s.end('{"cmd":"ping"}\n{"cmd":"ping"}');
    await waitUntil(() => got.closed(), "the server to end the connection");
    expect(got.lines).toEqual([{ ok: true, data: "pong" }, { ok: true, data: "pong" }]);
  });

  it("answers each bad request, and closes the connection after three in a row", async () => {
    await start(async () => ({ ok: true }));
    const s = await connect();
    const got = collect(s);
    s.write('nonsense\n{"cmd":"ping"}\n[]\n{"cmd":"fly"}\n{}\n{"cmd":"ping"}\n');
    await waitUntil(() => got.closed(), "the connection to be closed");
    expect(got.lines.map((l) => (l as { code?: string }).code ?? "ok")).toEqual(["bad-request", "ok", "bad-request", "bad-request", "bad-request"]);
    expect(server?.stats()).toMatchObject({ reject_closed: 1 });
  });

  it("stops reading the requests of a client that does not read its answers", async () => {
    let answered = 0;
    const big = "x".repeat(128 * 1024);
    await start(async () => {
      answered++;
      return { ok: true, dataJson: JSON.stringify(big) };
    });
    const s = await connect();
    s.pause();
    s.write('{"cmd":"status"}\n'.repeat(500));
    // another client is answered meanwhile, many times over
    for (let i = 0; i < 20; i++) {
      const other = await connect();
      const got = collect(other);
      other.write('{"cmd":"ping"}\n');
      await waitUntil(() => got.lines.length === 1, "an answer to another client");
      other.destroy();
    }
    expect(answered).toBeLessThan(20 + 5);
    // once it reads, it gets everything it asked for
    let bytes = 0;
    s.on("data", (chunk: Buffer) => (bytes += chunk.length));
    s.resume();
    await waitUntil(() => bytes === 500 * (big.length + 22), "every request answered");
  });

  it("closes a connection that has had no request in flight for the idle time", async () => {
    const clock = new FakeClock();
    await start(async () => ({ ok: true }), clock);
    const s = await connect();
    const got = collect(s);
    s.write('{"cmd":"ping"}\n');
    await waitUntil(() => got.lines.length === 1, "an answer");
    clock.advance(CONTROL_IDLE_MS - 1);
    const fresh = await connect();
    await new Promise((r) => setImmediate(r));
    expect(got.closed()).toBe(false);
    clock.advance(1);
    await waitUntil(() => got.closed(), "the idle connection to be closed");
    expect(fresh.destroyed).toBe(false);
    expect(server?.stats()).toMatchObject({ idle_closed: 1 });
  });

  it("makes room for a newcomer when a crowd of idle connections fills it", async () => {
    await start(async () => ({ ok: true, data: "pong" }));
    const crowd = await Crowd.open({ path }, MAX_CONTROL_CONNECTIONS);
    try {
      const s = await connect();
      const got = collect(s);
      s.write('{"cmd":"ping"}\n');
      await waitUntil(() => got.lines.length === 1, "an answer");
      expect(got.lines).toEqual([{ ok: true, data: "pong" }]);
      expect(crowd.closedByServer).toBe(1);
      expect(server?.stats()).toMatchObject({ open: MAX_CONTROL_CONNECTIONS, evicted: 1 });
    } finally {
      crowd.close();
    }
  });
});
