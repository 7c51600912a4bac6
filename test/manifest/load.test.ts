import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/manifest/load.js";
import type { ServiceConfig } from "../../src/manifest/types.js";

const lines = (...text: string[]): string => `${text.join("\n")}\n`;
const noFiles = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
};

function service(text: string, name: string, files: Record<string, string> = {}): ServiceConfig {
  const manifest = parseManifest(text, "/srv/app/supervisor.yaml", {
    readFile: (path) => files[path] ?? noFiles(path),
  });
  const found = manifest.services.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no service ${name}`);
  return found;
}

const SPEC_EXAMPLE = `
version: 1
state_dir: .vigil
defaults:
  restart:
    policy: on-failure
    backoff: { initial: 200ms, factor: 2, max: 30s, jitter: 0.1, reset_after: 60s }
    max_restarts: 10
    window: 5m
  stop: { signal: SIGTERM, timeout: 10s }
services:
  db:
    command: [postgres, -D, data]
  api:
    command: node examples/api.js --port 3000
    shell: false
    cwd: examples
    env: { PORT: "3000" }
    env_file: .env
    depends_on: [db]
    restart: { policy: always, max_restarts: 5 }
    stop: { timeout: 3s }
    heartbeat:
      via: ipc
      interval: 5s
      misses: 3
      startup_grace: 30s
    logs: { stale_after: 10m }
    limits: { memory: 512MiB, cpu: 95%, for: 30s }
    probes:
      liveness: { http: "http://127.0.0.1:3000/health", interval: 10s, timeout: 2s, failures: 3 }
      readiness: { tcp: "127.0.0.1:3000" }
`;

describe("parseManifest", () => {
  it("accepts the example manifest of SPEC §2", () => {
    const api = service(SPEC_EXAMPLE, "api", { "/srv/app/.env": "TOKEN=abc\n" });
    expect(api).toMatchObject({
      argv: ["node", "examples/api.js", "--port", "3000"],
      cwd: "/srv/app/examples",
      env: { TOKEN: "abc", PORT: "3000" },
      dependsOn: { db: "started" },
      restart: { policy: "always", maxRestarts: 5, windowMs: 300_000 },
      stop: { signal: "SIGTERM", timeoutMs: 3_000 },
      heartbeat: { via: "ipc", intervalMs: 5_000, misses: 3, startupGraceMs: 30_000, when: "always", history: 100 },
      logs: { staleAfterMs: 600_000 },
      limits: { memoryBytes: 536_870_912, cpuPercent: 95, forMs: 30_000 },
    });
  });

  it("fills every default of SPEC §2 for a minimal service", () => {
    const manifest = parseManifest(lines("version: 1", "services:", "  api:", "    command: node app.js"), "/srv/app/supervisor.yaml");
    expect(manifest.file).toBe("/srv/app/supervisor.yaml");
    expect(manifest.stateDir).toBe("/srv/app/.vigil");
    expect(manifest.services[0]).toEqual({
      name: "api",
      command: "node app.js",
      argv: ["node", "app.js"],
      shell: false,
      cwd: "/srv/app",
      env: {},
      envFile: null,
      dependsOn: {},
      restart: {
        policy: "on-failure",
        backoff: { initialMs: 200, factor: 2, maxMs: 30_000, jitter: 0.1, resetAfterMs: 60_000 },
        maxRestarts: 10,
        windowMs: 300_000,
        mode: "stop-first",
        readyTimeoutMs: 30_000,
      },
      stop: { signal: "SIGTERM", timeoutMs: 10_000 },
      heartbeat: null,
      tasks: null,
      logs: { staleAfterMs: null, maxBytes: 10 * 1024 ** 2, keep: 3, file: null },
      limits: null,
      probes: { liveness: null, readiness: null },
      replicas: 1,
      sockets: [],
      disabled: false,
      watch: null,
      schedule: null,
      adopt: null,
      actions: {},
    });
  });

  it("merges defaults under a service key by key, down to the backoff", () => {
    const text = lines(
      "version: 1",
      "defaults:",
      "  restart: { policy: always, backoff: { factor: 3, max: 1m } }",
      "  stop: { signal: INT, timeout: 20s }",
      "services:",
      "  api:",
      "    command: x",
      "    restart: { max_restarts: 5, backoff: { initial: 1s } }",
      "    stop: { timeout: 3s }",
    );
    const api = service(text, "api");
    expect(api.restart).toEqual({
      policy: "always",
      backoff: { initialMs: 1_000, factor: 3, maxMs: 60_000, jitter: 0.1, resetAfterMs: 60_000 },
      maxRestarts: 5,
      windowMs: 300_000,
      mode: "stop-first",
      readyTimeoutMs: 30_000,
    });
    expect(api.stop).toEqual({ signal: "SIGINT", timeoutMs: 3_000 });
  });

  it("merges defaults.logs under the service's logs", () => {
    const text = lines("version: 1", "defaults:", "  logs: { keep: 5, stale_after: 10m }", "services:", "  api:", "    command: x", "    logs: { max_size: 1MB }");
    expect(service(text, "api").logs).toEqual({ file: null, staleAfterMs: 600_000, maxBytes: 1_000_000, keep: 5 });
  });

  it("resolves cwd, state_dir and env_file against the manifest's directory", () => {
    const text = lines("version: 1", "state_dir: run/vigil", "services:", "  api:", "    command: x", "    cwd: examples", "    env_file: ../shared/.env");
    const manifest = parseManifest(text, "/srv/app/supervisor.yaml", { readFile: (path) => (path === "/srv/shared/.env" ? "A=1\n" : noFiles(path)) });
    expect(manifest.stateDir).toBe("/srv/app/run/vigil");
    expect(manifest.services[0]?.cwd).toBe("/srv/app/examples");
    expect(manifest.services[0]?.envFile).toBe("/srv/shared/.env");
  });

  it("overlays env_file values with env, stringifying numbers and booleans", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: x", "    env_file: .env", "    env: { PORT: 3000, DEBUG: true, NAME: api }");
    const api = service(text, "api", { "/srv/app/.env": "export PORT=80\nSECRET='s3 cr3t'\n" });
    expect(api.env).toEqual({ PORT: "3000", SECRET: "s3 cr3t", DEBUG: "true", NAME: "api" });
  });

  it("splits a command string like a shell, keeping quotes, $VARS and $${…} literal", () => {
    const text = lines("version: 1", "services:", "  api:", `    command: node "my app.js" --name "it's" "$HOME" $\${X}y`);
    const api = service(text, "api");
    expect(api.argv).toEqual(["node", "my app.js", "--name", "it's", "$HOME", "${X}y"]);
  });

  it("runs a shell command through /bin/sh -c, joining a list", () => {
    const text = lines("version: 1", "services:", "  a:", "    command: node app.js | tee log", "    shell: true", "  b:", "    command: [echo, hi, '>', out]", "    shell: true");
    expect(service(text, "a").argv).toEqual(["/bin/sh", "-c", "node app.js | tee log"]);
    expect(service(text, "b").argv).toEqual(["/bin/sh", "-c", "echo hi > out"]);
  });

  it("takes a command list as the argv, shown quoted", () => {
    const api = service(lines("version: 1", "services:", "  api:", "    command: [postgres, -D, data dir]"), "api");
    expect(api.argv).toEqual(["postgres", "-D", "data dir"]);
    expect(api.command).toBe("postgres -D 'data dir'");
  });

  it("reads depends_on as a list or as a map of conditions", () => {
    const text = lines("version: 1", "services:", "  db: { command: db }", "  cache: { command: cache }", "  api:", "    command: x", "    depends_on: { db: healthy, cache: started }", "  web:", "    command: x", "    depends_on: [api, db]");
    expect(service(text, "api").dependsOn).toEqual({ db: "healthy", cache: "started" });
    expect(service(text, "web").dependsOn).toEqual({ api: "started", db: "started" });
  });

  it("keeps the declaration order of services", () => {
    const text = lines("version: 1", "services:", "  zeta: { command: z }", "  2: { command: two }", "  alpha: { command: a }");
    expect(parseManifest(text, "s.yaml").services.map((s) => s.name)).toEqual(["zeta", "2", "alpha"]);
  });

  it("fills heartbeat, limits and probe defaults", () => {
    const text = lines(
      "version: 1",
      "services:",
      "  api:",
      "    command: x",
      "    heartbeat: { via: socket }",
      "    limits: { memory: 512MiB, cpu: 150% }",
      "    probes:",
      "      liveness: { http: 'http://127.0.0.1:3000/health', timeout: 2s }",
      "      readiness: { tcp: '[::1]:5432' }",
    );
    const api = service(text, "api");
    expect(api.heartbeat).toEqual({ tokenEnv: null, via: "socket", intervalMs: 5_000, misses: 3, startupGraceMs: 30_000, when: "always", history: 100 });
    expect(api.limits).toEqual({ memoryBytes: 512 * 1024 ** 2, cpuPercent: 150, forMs: 30_000 });
    expect(api.probes.liveness).toEqual({
      check: { kind: "http", url: "http://127.0.0.1:3000/health" },
      intervalMs: 10_000,
      timeoutMs: 2_000,
      failures: 3,
      initialDelayMs: 0,
    });
    expect(api.probes.readiness?.check).toEqual({ kind: "tcp", host: "::1", port: 5432 });
  });

  it("splits an exec probe like a command, or runs it through a shell", () => {
    const text = lines("version: 1", "services:", "  db:", "    command: x", "    probes:", "      liveness: { exec: 'pg_isready -h localhost' }", "      readiness: { exec: 'test -f ready && exit 0', shell: true }");
    const db = service(text, "db");
    expect(db.probes.liveness?.check).toEqual({ kind: "exec", argv: ["pg_isready", "-h", "localhost"], shell: false });
    expect(db.probes.readiness?.check).toEqual({ kind: "exec", argv: ["/bin/sh", "-c", "test -f ready && exit 0"], shell: true });
  });

  it("follows YAML anchors and merge keys", () => {
    const text = lines("version: 1", "x-base: &base", "  command: x", "services:", "  api:", "    <<: *base", "    cwd: a");
    expect(() => parseManifest(text, "s.yaml")).toThrow(/x-base: unknown key "x-base"/);
    const ok = lines("version: 1", "services:", "  api: &base", "    command: x", "  web:", "    <<: *base", "    cwd: web");
    expect(parseManifest(ok, "/s/s.yaml").services[1]).toMatchObject({ name: "web", argv: ["x"], cwd: "/s/web" });
  });
});
