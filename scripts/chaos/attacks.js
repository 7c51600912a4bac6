// Hostile clients of the two sockets: garbage, over-long lines, forged messages, floods of lines and of
// connections, and half-open connections that are held and never finished. None of it may stop the
// supervisor, slow its answers past a second, or reach a service.
import { createConnection } from "node:net";
import { join } from "node:path";

/** half-open connections held at once, per socket */
const MAX_HELD = 24;
const LINE_LIMIT = 64 * 1024;

/**
 * Connects, writes `payload` (a Buffer or string, or a list written back to back), then ends; reads and
 * drops whatever comes back. Resolves once the connection is closed or after `timeoutMs`; never rejects.
 */
function send(path, payload, { end = true, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("connect", () => {
      for (const part of [payload].flat()) socket.write(part);
      if (end) socket.end();
    });
    socket.on("data", () => undefined);
    socket.on("error", finish);
    socket.on("close", finish);
  });
}

export class Attacks {
  /** open half-open connections: { socket, closeAtMs } */
  held = [];
  /** floods under way (promises) */
  floods = new Set();

  constructor(stateDir, random) {
    this.heartbeat = join(stateDir, "heartbeat.sock");
    this.control = join(stateDir, "control.sock");
    this.random = random;
  }

  /** a beat, ready or status message for `names` with a forged token, or some other broken message */
  forgedLine(names) {
    const r = this.random;
    const service = r.chance(0.8) && names.length > 0 ? r.pick(names) : `ghost-${r.hex(4)}`;
    switch (r.int(0, 5)) {
      case 0:
        return JSON.stringify({ service, type: "beat" });
      case 1:
        return JSON.stringify({ service, token: r.hex(32), type: r.pick(["beat", "ready", "stopping"]) });
      case 2:
        return JSON.stringify({ service, token: r.hex(32), type: "status", text: "x".repeat(r.int(0, 2000)) });
      case 3:
        return JSON.stringify({ service, token: r.hex(32), type: r.pick(["explode", "", null, 42]) });
      case 4:
        return JSON.stringify(r.pick([[], null, 7, "beat", { service: 5, token: {}, type: [] }]));
      default:
        return `{"service":"${service}","token":"${r.hex(32)}","type":"beat","data":{"n":`;
    }
  }

  /**
   * A control request that must be refused: never down, never a real name, and never a command without
   * names (which a later protocol might take as "every service").
   */
  badRequest() {
    return this.random.pick([
      '{"cmd":"nope"}', '{"cmd":"stop","names":"all"}', '{"cmd":"restart","names":[1,2]}', '{"cmd":"start","names":["no-such-service"]}',
      '{"cmd":"restart","names":[null]}', "[]", "null", '"down"', '{"cmd":{"cmd":"down"}}', '{"names":["x"]}', "{", "\u0000\u0001\u0002",
    ]);
  }

  async heartbeatGarbage() {
    await send(this.heartbeat, this.random.bytes(this.random.int(1, 32 * 1024)));
  }

  async controlGarbage() {
    await send(this.control, this.random.bytes(this.random.int(1, 32 * 1024)));
  }

  async longLine(which) {
    const path = which === "control" ? this.control : this.heartbeat;
    const size = this.random.int(LINE_LIMIT + 1, 1024 * 1024);
    await send(path, ["{\"service\":\"", "a".repeat(size), "\"}\n", `${this.forgedLine([])}\n`]);
  }

  async forged(names) {
    const lines = Array.from({ length: this.random.int(10, 200) }, () => this.forgedLine(names));
    await send(this.heartbeat, `${lines.join("\n")}\n`);
  }

  /** thousands of lines as fast as the socket takes them */
  async heartbeatFlood(names) {
    const kinds = Array.from({ length: 16 }, () => this.forgedLine(names));
    const n = this.random.int(2_000, 10_000);
    const lines = Array.from({ length: n }, (_, i) => kinds[i % kinds.length]);
    await send(this.heartbeat, `${lines.join("\n")}\n`, { timeoutMs: 20_000 });
  }

  async controlFlood() {
    const n = this.random.int(1_000, 4_000);
    const lines = Array.from({ length: n }, () => this.badRequest());
    await send(this.control, `${lines.join("\n")}\n`, { timeoutMs: 20_000 });
  }

  /** many connections at once, each with one bad line */
  async connectionFlood(which, names) {
    const path = which === "control" ? this.control : this.heartbeat;
    const n = this.random.int(20, which === "control" ? 100 : 400);
    const line = () => `${which === "control" ? this.badRequest() : this.forgedLine(names)}\n`;
    await Promise.all(Array.from({ length: n }, () => send(path, line())));
  }

  /** a connection with half a line, held open for seconds */
  halfOpen(which, names, nowMs) {
    const path = which === "control" ? this.control : this.heartbeat;
    if (this.held.filter((h) => h.path === path).length >= MAX_HELD) return false;
    const socket = createConnection(path);
    socket.on("error", () => socket.destroy());
    socket.on("data", () => undefined);
    const line = which === "control" ? '{"cmd":"sta' : this.forgedLine(names).slice(0, 20);
    socket.on("connect", () => socket.write(line));
    this.held.push({ path, socket, closeAtMs: nowMs + this.random.int(2_000, 40_000) });
    return true;
  }

  /** closes the held connections whose time has come (all of them with Infinity) */
  release(nowMs) {
    const keep = [];
    for (const h of this.held) {
      if (h.closeAtMs <= nowMs || h.socket.destroyed) h.socket.destroy();
      else keep.push(h);
    }
    this.held = keep;
  }
}
