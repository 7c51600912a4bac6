import { describe, expect, it } from "vitest";
import { problems as rejected } from "../support/manifest.js";
import { parseManifest } from "../../src/manifest/load.js";

const lines = (...text: string[]): string => `${text.join("\n")}\n`;
const noFiles = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
};

function parse(text: string) {
  return parseManifest(text, "/srv/app/supervisor.yaml", { readFile: noFiles });
}

function problems(text: string): string[] {
  return rejected(text, "/srv/app/supervisor.yaml", { readFile: noFiles });
}

describe("sockets and start-first in the manifest", () => {
  it("reads tcp and unix sockets in order, unix paths against the manifest's directory", () => {
    const manifest = parse(lines(
      "version: 1",
      "services:",
      "  web:",
      "    command: x",
      '    sockets: { http: "tcp://127.0.0.1:8080", admin: { address: "unix:./admin.sock", mode: "0660", owner: "www:www" }, v6: "tcp://[::1]:9000" }',
    ));
    expect(manifest.services[0]?.sockets).toEqual([
      { name: "http", address: { kind: "tcp", host: "127.0.0.1", port: 8080 }, mode: null, owner: null },
      { name: "admin", address: { kind: "unix", path: "/srv/app/admin.sock" }, mode: 0o660, owner: "www:www" },
      { name: "v6", address: { kind: "tcp", host: "::1", port: 9000 }, mode: null, owner: null },
    ]);
  });

  it("takes restart.mode and ready_timeout, stop-first and 30s by default", () => {
    const manifest = parse(lines(
      "version: 1",
      "services:",
      "  a: { command: x }",
      "  b: { command: x, heartbeat: { via: socket }, restart: { mode: start-first, ready_timeout: 5s } }",
    ));
    expect(manifest.services.map((s) => [s.restart.mode, s.restart.readyTimeoutMs])).toEqual([["stop-first", 30_000], ["start-first", 5_000]]);
  });

  it("rejects start-first on a service that has no way to say it is ready, and bad addresses, where they are", () => {
    expect(problems(lines(
      "version: 1",
      "services:",
      "  web:",
      "    command: x",
      "    restart: { mode: start-first }",
      '    sockets: { http: "udp://1.2.3.4:5", "a:b": "unix:x" }',
    ))).toEqual([
      "/srv/app/supervisor.yaml:5:22: services.web.restart.mode: start-first needs a way to say the new child is ready: a heartbeat (its ready message or first beat) or a readiness probe",
      '/srv/app/supervisor.yaml:6:22: services.web.sockets.http: expected "tcp://HOST:PORT" or "unix:PATH", got "udp://1.2.3.4:5"',
      "/srv/app/supervisor.yaml:6:41: services.web.sockets.a:b: a socket name takes only letters, digits, _ . - (it goes into LISTEN_FDNAMES)",
    ]);
  });

  it("rejects start-first from defaults on a service that has no way to say it is ready, at the defaults' key", () => {
    expect(problems(lines(
      "version: 1",
      "defaults:",
      "  restart: { mode: start-first }",
      "services:",
      "  beats: { command: x, heartbeat: { via: socket } }",
      "  silent: { command: x }",
      "  own: { command: x, restart: { mode: stop-first } }",
    ))).toEqual([
      '/srv/app/supervisor.yaml:3:20: defaults.restart.mode: service "silent" restarts start-first by default but has no way to say it is ready: give it a heartbeat or a readiness probe, or restart.mode: stop-first',
    ]);
  });

  it("accepts start-first with a readiness probe alone", () => {
    const manifest = parse(lines("version: 1", "services:", "  web:", "    command: x", "    restart: { mode: start-first }", '    probes: { readiness: { tcp: "127.0.0.1:1" } }'));
    expect(manifest.services[0]?.restart.mode).toBe("start-first");
  });
});
