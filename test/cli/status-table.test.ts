import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { ServiceDoc, StatusDocument } from "../../src/control/status-document.js";
import { formatAge, formatBytes, formatPercent, renderTable } from "../../src/cli/status-table.js";
import { CLI, useStacks, waitUntil } from "../support/stack.js";

const NOW = Date.parse("2026-11-22T12:00:00.000Z");
const ago = (ms: number): string => new Date(NOW - ms).toISOString();

function service(over: Partial<ServiceDoc> & { name: string }): ServiceDoc {
  return {
    service: over.name, instance: 0, state: "running", health: "unknown", pid: null, restarts: 0, started_at: null, last_beat_at: null, beats: 0,
    last_beat_data: null, cpu_percent: null, memory_bytes: null, last_exit: null, next_restart_at: null,
    command: "x", waiting_for: [], own_cpu_percent: null, own_memory_bytes: null, processes: null, probes: null, rejected_messages: 0, status_text: null, ...over,
  };
}

const DOC: StatusDocument = {
  supervisor: {
    pid: 4100, started_at: ago(3_600_000), manifest: "/srv/app/supervisor.yaml", generation: 3, config_error: null,
    state_dir: "/srv/app/.vigil", stopping: false, rejected_messages: 0, host: null, problems: [], connections: null, process_backend: null,
  },
  services: [
    service({
      name: "api", health: "healthy", pid: 4123, restarts: 2, started_at: ago(3 * 60_000 + 5_000), last_beat_at: ago(2_400),
      beats: 1870, cpu_percent: 12.46, memory_bytes: 48_234_496,
      last_exit: { code: 1, signal: null, reason: "exit", at: ago(200_000) },
    }),
    service({
      name: "worker-eu", health: "degraded", pid: 1234567, restarts: 14, started_at: ago(2 * 3_600_000 + 60_000), last_beat_at: ago(11_000),
      cpu_percent: 151.2, memory_bytes: 1_288_490_188, last_exit: { code: null, signal: "SIGKILL", reason: "heartbeat", at: ago(7_300_000) },
    }),
    service({
      name: "db", state: "backoff", health: "failed", restarts: 3, next_restart_at: new Date(NOW + 1_500).toISOString(),
      last_exit: { code: null, signal: "SIGSEGV", reason: "exit", at: ago(1_000) },
    }),
    service({ name: "cron", state: "fatal", last_exit: { code: null, signal: null, reason: "exit", at: ago(1_000), error: "spawn cronx ENOENT" } }),
    service({ name: "web", state: "starting", waiting_for: ["api", "db"] }),
  ],
};

describe("the status table", () => {
  it("lists the open tasks of each instance that reports tasks under the table, the oldest first", () => {
    const task = (id: string, name: string | null, runningMs: number, idleMs: number, stale = false) =>
      ({ id, name, started_at: ago(runningMs), running_for_ms: runningMs, idle_for_ms: idleMs, stale, timed_out: false });
    const doc: StatusDocument = {
      ...DOC,
      services: [
        service({
          name: "agent",
          pid: 10,
          tasks: {
            state: "busy", open: 7, started: 9, ended: 2, rejected: 3, unmatched: 0,
            in_flight: [task("req-42", "summarise", 61_000, 1_200), task("req-43", null, 400_000, 301_000, true), ...["a", "b", "c", "d", "e"].map((id) => task(id, null, 1_000, 1_000))],
          },
        }),
        service({ name: "idle", pid: 11, tasks: { state: "idle", open: 0, started: 0, ended: 0, rejected: 0, unmatched: 0, in_flight: [] } }),
        service({ name: "plain", pid: 12, tasks: null }),
      ],
    };
    const lines = renderTable(doc, NOW, { color: false }).split("\n");
    expect(lines.slice(lines.indexOf("agent  tasks: 7 open, 3 refused (over 1000 open)"))).toEqual([
      "agent  tasks: 7 open, 3 refused (over 1000 open)",
      "  req-42  summarise  running 1m, idle 1.2s",
      "  req-43  running 6.7m, idle 5m  stale",
      "  a  running 1s, idle 1s",
      "  b  running 1s, idle 1s",
      "  c  running 1s, idle 1s",
      "  … and 2 more",
      "idle  tasks: idle",
      "",
    ]);
  });

  it("shows every column in short forms, '-' where nothing is known", () => {
    expect(renderTable(DOC, NOW, { color: false }).split("\n")).toEqual([
      "vigil pid 4100, generation 3, /srv/app/supervisor.yaml",
      "NAME      STATE            HEALTH   PID     UPTIME RESTARTS CPU   MEM  BEAT LAST EXIT",
      "api       running          healthy  4123    3m     2        12.5% 46M  2s   exit 1",
      "worker-eu running          degraded 1234567 2h     14       151%  1.2G 11s  heartbeat",
      "db        backoff 1.5s     failed   -       -      3        -     -    -    exit SIGSEGV",
      "cron      fatal            unknown  -       -      0        -     -    -    spawn failed",
      "web       waiting (api,db) unknown  -       -      0        -     -    -    -",
      "",
    ]);
  });

  it("shows an idle scheduled job with the time to its next run, and a running one as running", () => {
    const schedule = {
      cron: "*/5 * * * *", timezone: null, overlap: "skip" as const, next_run_at: new Date(NOW + 4 * 60_000).toISOString(),
      runs: 3, skipped: 0, queued: false, held: false, last_run: { code: 0, signal: null, duration_ms: 1_200, ended_at: ago(60_000) },
    };
    const doc: StatusDocument = {
      ...DOC,
      services: [service({ name: "backup", state: "exited", schedule }), service({ name: "report", state: "running", pid: 77, schedule })],
    };
    const lines = renderTable(doc, NOW, { color: false }).split("\n");
    expect(lines[2]).toMatch(/^backup\s+scheduled, next run in 4m\s/);
    expect(lines[3]).toMatch(/^report\s+running\s/);
  });

  it("shows what is wrong with the supervisor's own files on one line under the header", () => {
    const doc: StatusDocument = {
      ...DOC,
      supervisor: {
        ...DOC.supervisor,
        problems: [
          { kind: "disk", message: "cannot write status.json: no space left on device (ENOSPC)", since: ago(125_000) },
          { kind: "fds", message: "cannot write logs/api.log: too many open files (EMFILE)", since: ago(3_000) },
        ],
      },
    };
    expect(renderTable(doc, NOW, { color: false }).split("\n").slice(0, 3)).toEqual([
      "vigil pid 4100, generation 3, /srv/app/supervisor.yaml",
      "problems: disk: cannot write status.json: no space left on device (ENOSPC), for 2m; fds: cannot write logs/api.log: too many open files (EMFILE), for 3s",
      "NAME      STATE            HEALTH   PID     UPTIME RESTARTS CPU   MEM  BEAT LAST EXIT",
    ]);
  });

  it("fits in 80 columns with ordinary names, with two spaces between columns as far as they fit", () => {
    const plain = { ...DOC, services: DOC.services.filter((s) => s.name === "api" || s.name === "db") };
    const lines = renderTable(plain, NOW, { color: false }).split("\n");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(lines.slice(1)).toEqual([
      "NAME  STATE         HEALTH   PID   UPTIME  RESTARTS  CPU   MEM BEAT LAST EXIT",
      "api   running       healthy  4123  3m      2         12.5% 46M 2s   exit 1",
      "db    backoff 1.5s  failed   -     -       3         -     -   -    exit SIGSEGV",
      "",
    ]);
  });

  it("colours state and health on request, and only the text, so that columns still line up", () => {
    const out = renderTable(DOC, NOW, { color: true });
    const api = out.split("\n")[2] ?? "";
    expect(api).toContain("\x1b[32mrunning\x1b[0m");
    expect(api).toContain("\x1b[32mhealthy\x1b[0m");
    expect(out).toContain("\x1b[33mbackoff 1.5s\x1b[0m");
    expect(out).toContain("\x1b[31mfatal\x1b[0m");
    expect(out).toContain("\x1b[31mfailed\x1b[0m");
    expect(out).toContain("\x1b[33mdegraded\x1b[0m");
    // eslint-disable-next-line no-control-regex
    expect(out.replace(/\x1b\[\d+m/g, "")).toBe(renderTable(DOC, NOW, { color: false }));
    expect(renderTable(DOC, NOW)).not.toContain("\x1b[");
  });

  it("formats ages, percentages and sizes narrowly", () => {
    expect([0, 999, 59_999, 60_000, 3_599_999, 7_200_000, 3 * 86_400_000, -5].map(formatAge)).toEqual(["0s", "0s", "59s", "1m", "59m", "2h", "3d", "0s"]);
    expect([null, 0, 1.53, 12.46, 99.96, 151.2].map(formatPercent)).toEqual(["-", "0.0%", "1.5%", "12.5%", "100%", "151%"]);
    expect([null, 512, 1023.6, 1536, 48_234_496, 10_380_902, 1_288_490_188].map(formatBytes)).toEqual(["-", "512B", "1K", "1.5K", "46M", "9.9M", "1.2G"]);
  });
});

const stack = useStacks();

describe("vigil status --watch", () => {
  it("redraws until ctrl-c, then exits 0", async () => {
    const s = await stack("version: 1\nservices:\n  sleeper:\n    command: sleep 300\n");
    s.start();
    await s.waitFor("sleeper", (x) => x.state === "running", "to run");
    const watch = spawn(process.execPath, [CLI, "status", "--watch"], { cwd: s.dir, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    watch.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => watch.on("exit", (code) => r(code)));
    try {
      await waitUntil(() => (out.match(/^sleeper\s+running/gm) ?? []).length >= 2, () => `two tables; got:\n${out}`);
      watch.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      if (watch.exitCode === null) watch.kill("SIGKILL");
    }
  });

  it("has resources sampled at the full pace while it watches, where an idle stack samples seldom", async () => {
    const s = await stack("version: 1\nservices:\n  sleeper:\n    command: sleep 300\n");
    s.start();
    await s.waitFor("sleeper", (x) => x.state === "running", "to run");
    const pace = async () => JSON.parse((await s.run(["status", "--json"])).stdout).supervisor.sampling;
    expect(await pace()).toEqual({ pace: "idle", interval_ms: 60_000, because: "none" });
    const watch = spawn(process.execPath, [CLI, "status", "--watch"], { cwd: s.dir, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    watch.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => watch.on("exit", (code) => r(code)));
    try {
      await waitUntil(() => /^sleeper\s+running/m.test(out), () => `a table; got:\n${out}`);
      expect(await pace()).toEqual({ pace: "full", interval_ms: 2_000, because: "watched" });
      watch.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      if (watch.exitCode === null) watch.kill("SIGKILL");
    }
  });

  it("says so and exits 1 when the supervisor goes away", async () => {
    const s = await stack("version: 1\nservices:\n  sleeper:\n    command: sleep 300\n");
    s.start();
    await s.waitFor("sleeper", (x) => x.state === "running", "to run");
    const watch = spawn(process.execPath, [CLI, "status", "-w"], { cwd: s.dir, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    let err = "";
    watch.stdout.on("data", (d: Buffer) => (out += d.toString()));
    watch.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => watch.on("exit", (code) => r(code)));
    try {
      await waitUntil(() => /^sleeper\s+running/m.test(out), () => `a table; got:\n${out}`);
      expect((await s.run(["down"])).code).toBe(0);
      expect(await exited).toBe(1);
      expect(err.trim()).toBe("vigil: the supervisor has gone away");
    } finally {
      if (watch.exitCode === null) watch.kill("SIGKILL");
    }
  });
});

describe("renderTable's status lines", () => {
  it("shows what children said of themselves below the table, on one line each", () => {
    const doc = { ...DOC, services: [service({ name: "redis", status_text: "Ready to accept connections" }), service({ name: "x", status_text: "two\nlines\u001b[31m" }), service({ name: "quiet" })] };
    const lines = renderTable(doc, NOW).trimEnd().split("\n");
    expect(lines.slice(-2)).toEqual(["redis  says: Ready to accept connections", "x      says: two lines [31m"]);
  });
});
