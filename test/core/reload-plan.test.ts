import { describe, expect, it } from "vitest";
import { describePlan, planIsEmpty, planReload, type ReloadPlan } from "../../src/core/reload-plan.js";
import { parseManifest } from "../../src/manifest/load.js";
import type { Manifest } from "../../src/manifest/types.js";

const FILE = "/srv/app/supervisor.yaml";

function manifest(text: string, files: Record<string, string> = {}): Manifest {
  return parseManifest(text, FILE, {
    readFile: (path) => {
      const content = files[path];
      if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
      return content;
    },
  });
}

const yaml = (...lines: string[]): string => `version: 1\n${lines.join("\n")}\n`;

function plan(before: string, after: string, files: { before?: Record<string, string>; after?: Record<string, string> } = {}): ReloadPlan {
  return planReload(manifest(before, files.before), manifest(after, files.after));
}

const BASE = yaml(
  "services:",
  "  db:",
  "    command: postgres -D data",
  "  api:",
  "    command: node api.js",
  "    env: { PORT: '3000', SECRET: hunter2 }",
  "    depends_on: [db]",
);

describe("planReload", () => {
  it("leaves everything untouched when nothing changed", () => {
    const result = plan(BASE, BASE);
    expect(result).toMatchObject({ added: [], removed: [], restarted: [], updated: [], unchanged: ["db", "api"] });
    expect(planIsEmpty(result)).toBe(true);
    expect(describePlan(result)).toEqual([]);
  });

  it("starts added services after their dependencies, in the start order of the new manifest", () => {
    const after = yaml(
      "services:",
      "  web: { command: node web.js, depends_on: [cache] }",
      "  cache: { command: redis-server }",
      "  db: { command: postgres -D data }",
      "  api: { command: node api.js, env: { PORT: '3000', SECRET: hunter2 }, depends_on: [db] }",
    );
    const result = plan(BASE, after);
    expect(result.added).toEqual(["cache", "web"]);
    expect(result.spawnOrder).toEqual(["cache", "web"]);
    expect(result.unchanged).toEqual(["db", "api"]);
  });

  it("stops removed services dependants first", () => {
    const before = yaml(
      "services:",
      "  db: { command: postgres }",
      "  api: { command: node api.js, depends_on: [db] }",
      "  web: { command: node web.js, depends_on: [api] }",
      "  keep: { command: sleep 1000 }",
    );
    const result = plan(before, yaml("services:", "  keep: { command: sleep 1000 }"));
    expect(result.removed).toEqual(["web", "api", "db"]);
    expect(result.unchanged).toEqual(["keep"]);
  });

  it("sees a renamed service as one removed and one added", () => {
    const after = BASE.replace("  api:", "  backend:");
    expect(plan(BASE, after)).toMatchObject({ added: ["backend"], removed: ["api"], unchanged: ["db"] });
  });

  it("restarts only the service whose command changed", () => {
    const result = plan(BASE, BASE.replace("node api.js", "node api.js --verbose"));
    expect(result.restarted).toEqual([{ name: "api", changes: ["command"] }]);
    expect(result.unchanged).toEqual(["db"]);
  });

  it("names the env key whose value changed, and never the value", () => {
    const result = plan(BASE, BASE.replace("SECRET: hunter2", "SECRET: hunter3"));
    expect(result.restarted).toEqual([{ name: "api", changes: ["env.SECRET"] }]);
    expect(describePlan(result)).toEqual(["api: restart (env.SECRET)"]);
    expect(describePlan(result).join("\n")).not.toMatch(/hunter/);
  });

  it("names env keys that were added or removed", () => {
    const result = plan(BASE, BASE.replace("SECRET: hunter2", "DEBUG: '1'"));
    expect(result.restarted).toEqual([{ name: "api", changes: ["env.DEBUG", "env.SECRET"] }]);
  });

  it("restarts a service whose env_file contents changed", () => {
    const text = yaml("services:", "  api: { command: node api.js, env_file: .env }");
    const result = plan(text, text, { before: { "/srv/app/.env": "TOKEN=a\n" }, after: { "/srv/app/.env": "TOKEN=b\n" } });
    expect(result.restarted).toEqual([{ name: "api", changes: ["env.TOKEN"] }]);
  });

  it("restarts a service whose env_file path changed", () => {
    const files = { "/srv/app/.env": "TOKEN=a\n", "/srv/app/other.env": "TOKEN=a\n" };
    const before = yaml("services:", "  api: { command: node api.js, env_file: .env }");
    const after = yaml("services:", "  api: { command: node api.js, env_file: other.env }");
    expect(plan(before, after, { before: files, after: files }).restarted).toEqual([{ name: "api", changes: ["env_file"] }]);
  });

  it("restarts on a changed cwd or shell", () => {
    const before = yaml("services:", "  api: { command: node api.js }");
    expect(plan(before, yaml("services:", "  api: { command: node api.js, cwd: sub }")).restarted).toEqual([
      { name: "api", changes: ["cwd"] },
    ]);
    expect(plan(before, yaml("services:", "  api: { command: node api.js, shell: true }")).restarted).toEqual([
      { name: "api", changes: ["shell"] },
    ]);
  });

  it("applies a changed restart policy in place", () => {
    const result = plan(BASE, BASE.replace("    depends_on: [db]", "    depends_on: [db]\n    restart: { policy: always }"));
    expect(result.updated).toEqual([{ name: "api", changes: ["restart.policy"] }]);
    expect(result.restarted).toEqual([]);
    expect(describePlan(result)).toEqual(["api: updated in place (restart.policy)"]);
  });

  it("applies a changed heartbeat interval in place", () => {
    const before = yaml("services:", "  api: { command: node api.js, heartbeat: { via: socket, interval: 5s } }");
    const after = yaml("services:", "  api: { command: node api.js, heartbeat: { via: socket, interval: 2s } }");
    expect(plan(before, after).updated).toEqual([{ name: "api", changes: ["heartbeat.interval"] }]);
  });

  it("restarts a service whose heartbeat moves between ipc and socket", () => {
    const before = yaml("services:", "  api: { command: node api.js, heartbeat: { via: ipc } }");
    const after = yaml("services:", "  api: { command: node api.js, heartbeat: { via: socket } }");
    expect(plan(before, after).restarted).toEqual([{ name: "api", changes: ["heartbeat.via"] }]);
    expect(plan(after, before).restarted).toEqual([{ name: "api", changes: ["heartbeat.via"] }]);
  });

  it("restarts a service that gains an ipc heartbeat, and updates one that gains a socket heartbeat", () => {
    const before = yaml("services:", "  api: { command: node api.js }");
    const ipc = yaml("services:", "  api: { command: node api.js, heartbeat: { via: ipc } }");
    const socket = yaml("services:", "  api: { command: node api.js, heartbeat: { via: socket } }");
    expect(plan(before, ipc).restarted).toEqual([{ name: "api", changes: ["heartbeat"] }]);
    expect(plan(before, socket).updated).toEqual([{ name: "api", changes: ["heartbeat"] }]);
  });

  it("applies limits, logs and probes in place, named by their manifest keys", () => {
    const before = yaml(
      "services:",
      "  api:",
      "    command: node api.js",
      "    limits: { memory: 512MiB }",
      "    probes: { liveness: { http: 'http://127.0.0.1:3000/health' } }",
    );
    const after = yaml(
      "services:",
      "  api:",
      "    command: node api.js",
      "    limits: { memory: 1GiB }",
      "    logs: { stale_after: 10m, max_size: 1MiB }",
      "    probes: { liveness: { tcp: '127.0.0.1:3000', interval: 5s } }",
    );
    expect(plan(before, after).updated).toEqual([
      { name: "api", changes: ["logs.stale_after", "logs.max_size", "limits.memory", "probes.liveness.tcp", "probes.liveness.interval"] },
    ]);
  });

  it("applies a depends_on change in place, even towards a newly added service", () => {
    const after = yaml(
      "services:",
      "  db: { command: postgres -D data }",
      "  cache: { command: redis-server }",
      "  api: { command: node api.js, env: { PORT: '3000', SECRET: hunter2 }, depends_on: [db, cache] }",
    );
    const result = plan(BASE, after);
    expect(result.updated).toEqual([{ name: "api", changes: ["depends_on.cache"] }]);
    expect(result.added).toEqual(["cache"]);
    expect(result.restarted).toEqual([]);
  });

  it("does not restart the dependants of a restarted service", () => {
    const result = plan(BASE, BASE.replace("postgres -D data", "postgres -D data2"));
    expect(result.restarted).toEqual([{ name: "db", changes: ["command"] }]);
    expect(result.unchanged).toEqual(["api"]);
  });

  it("lists supervision changes beside the spawn change of a restarted service", () => {
    const after = BASE.replace("node api.js", "node api2.js").replace("    depends_on: [db]", "    depends_on: [db]\n    stop: { timeout: 3s }");
    expect(plan(BASE, after).restarted).toEqual([{ name: "api", changes: ["command", "stop.timeout"] }]);
  });

  it("spawns a restarted service after a new service it now depends on", () => {
    const after = yaml(
      "services:",
      "  api: { command: node api2.js, depends_on: [cache] }",
      "  cache: { command: redis-server }",
    );
    const before = yaml("services:", "  api: { command: node api.js }");
    expect(plan(before, after).spawnOrder).toEqual(["cache", "api"]);
  });

  describe("defaults", () => {
    const withDefaults = (policy: string): string =>
      yaml(
        "defaults:",
        `  restart: { policy: ${policy} }`,
        "  stop: { timeout: 5s }",
        "services:",
        "  a: { command: sleep 1 }",
        "  b: { command: sleep 2 }",
        "  pinned: { command: sleep 3, restart: { policy: never } }",
      );

    it("reach every service that inherits them, and only those", () => {
      const result = plan(withDefaults("on-failure"), withDefaults("always"));
      expect(result.updated).toEqual([
        { name: "a", changes: ["restart.policy"] },
        { name: "b", changes: ["restart.policy"] },
      ]);
      expect(result.unchanged).toEqual(["pinned"]);
    });

    it("follow the same rules as a change written in the service", () => {
      const before = withDefaults("always");
      const result = plan(before, before.replace("timeout: 5s", "timeout: 8s"));
      expect(result.updated.map((s) => s.changes)).toEqual([["stop.timeout"], ["stop.timeout"], ["stop.timeout"]]);
    });
  });

  describe("global sections", () => {
    it("reports a changed state_dir and http", () => {
      const after = BASE.replace("version: 1\n", "version: 1\nstate_dir: other\nhttp: { listen: '127.0.0.1:9876' }\n");
      const result = plan(BASE, after);
      expect(result).toMatchObject({ stateDirChanged: true, httpChanged: true, resourcesChanged: false, checksChanged: false });
      expect(result.unchanged).toEqual(["db", "api"]);
      expect(planIsEmpty(result)).toBe(false);
      expect(describePlan(result)).toEqual(["state_dir: changed", "http: changed"]);
    });
  });
});

describe("describePlan", () => {
  it("gives one line per change: removed, restarted, updated, added", () => {
    const before = yaml(
      "services:",
      "  old: { command: sleep 1 }",
      "  api: { command: node api.js, env: { PORT: '3000' } }",
      "  worker: { command: node worker.js }",
    );
    const after = yaml(
      "services:",
      "  api: { command: node api.js --fast, env: { PORT: '3001' } }",
      "  worker: { command: node worker.js, restart: { policy: always } }",
      "  fresh: { command: sleep 2 }",
    );
    expect(describePlan(plan(before, after))).toEqual([
      "old: stop (removed)",
      "api: restart (command, env.PORT)",
      "worker: updated in place (restart.policy)",
      "fresh: start (added)",
    ]);
  });
});
