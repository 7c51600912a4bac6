import { access, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRunning, useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

const BEFORE = `
version: 1
services:
  a:
    command: sleep 301
  b:
    command: sleep 302
  c:
    command: sleep 303
`;

const AFTER = `
version: 1
services:
  a:
    command: sleep 311
  b:
    command: sleep 302
    restart: { policy: always }
  d:
    command: sleep 304
    depends_on: [b]
`;

describe("reloading the manifest", () => {
  it("vigil reload restarts, updates, removes and adds exactly what changed", async () => {
    const s = await stack(BEFORE);
    s.start();
    const a = await s.waitFor("a", (x) => x.state === "running", "to run");
    const b = await s.waitFor("b", (x) => x.state === "running", "to run");
    const c = await s.waitFor("c", (x) => x.state === "running", "to run");
    await writeFile(join(s.dir, "supervisor.yaml"), AFTER);
    const res = await s.run(["reload"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/generation 2/);
    const a2 = await s.waitFor("a", (x) => x.state === "running" && x.pid !== a.pid, "to run its new command");
    expect(a2.last_exit?.reason).toBe("config");
    expect(a2.command).toBe("sleep 311");
    expect((await s.service("b"))?.pid).toBe(b.pid);
    await s.waitFor("d", (x) => x.state === "running", "to be added and run");
    const doc = await s.statusFile();
    expect(doc?.supervisor.generation).toBe(2);
    await expect.poll(async () => (await s.statusFile())?.services.map((x) => x.name)).toEqual(["a", "b", "d"]);
    expect(isRunning(c.pid!)).toBe(false);
  });

  it("keeps the running generation on a bad edit, reports it, and applies the fix", async () => {
    const s = await stack(BEFORE);
    const up = s.start();
    const a = await s.waitFor("a", (x) => x.state === "running", "to run");
    await writeFile(join(s.dir, "supervisor.yaml"), BEFORE.replace("command: sleep 302", "comand: sleep 302"));
    const bad = await s.run(["reload"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^\/.*supervisor\.yaml:7:5: services\.b\.comand: unknown key "comand", did you mean "command"\?$/m);
    expect(bad.stderr).toMatch(/^\/.*supervisor\.yaml:6:3: services\.b\.command: missing required key "command"$/m);
    const doc = await s.statusFile();
    expect(doc?.supervisor.generation).toBe(1);
    expect(doc?.supervisor.config_error).toMatch(/services\.b\.comand/);
    expect((await s.service("a"))?.pid).toBe(a.pid);
    // the same bad version is logged once
    await s.run(["reload"]);
    expect(s.stderr.match(/manifest not applied/g)).toHaveLength(1);

    await writeFile(join(s.dir, "supervisor.yaml"), BEFORE.replace("sleep 303", "sleep 333"));
    up.kill("SIGHUP");
    const c = await s.waitFor("c", (x) => x.command === "sleep 333" && x.state === "running", "to run the fixed command");
    expect(c.last_exit?.reason).toBe("config");
    const fixed = await s.statusFile();
    expect(fixed?.supervisor.config_error).toBeNull();
    expect(fixed?.supervisor.generation).toBe(2);
    expect((await s.service("a"))?.pid).toBe(a.pid);
  });

  it("keeps a beating service healthy, with its beats, when heartbeat.misses is edited in place", async () => {
    const manifest = (misses: number) => `
version: 1
services:
  beater:
    command: sh -c 'while true; do vigil beat; sleep 0.1; done'
    heartbeat: { via: socket, interval: 2s, misses: ${misses} }
`;
    const s = await stack(manifest(3));
    s.start();
    const before = await s.waitFor("beater", (x) => x.health === "healthy" && x.beats >= 3, "to beat");
    await writeFile(join(s.dir, "supervisor.yaml"), manifest(5));
    expect((await s.run(["reload"])).code).toBe(0);
    const status = await s.run(["status", "--json", "beater"]);
    const after = (JSON.parse(status.stdout) as { services: { pid: number; health: string; beats: number }[] }).services[0]!;
    expect(after.pid).toBe(before.pid);
    expect(after.health).toBe("healthy");
    expect(after.beats).toBeGreaterThanOrEqual(before.beats);
  });

  it("reports an edit of an odd shape (http: {}, limits: null) with its line and column, keeping the generation", async () => {
    const s = await stack(BEFORE);
    s.start();
    const a = await s.waitFor("a", (x) => x.state === "running", "to run");
    const odd = BEFORE.replace("    command: sleep 302", "    command: sleep 302\n    limits: null") + "http: {}\n";
    await writeFile(join(s.dir, "supervisor.yaml"), odd);
    const bad = await s.run(["reload"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toMatch(/internal error|TypeError|    at /);
    expect(bad.stderr).toMatch(/^\/.*supervisor\.yaml:8:13: services\.b\.limits: expected a mapping, got null$/m);
    expect(bad.stderr).toMatch(/^\/.*supervisor\.yaml:11:1: http\.listen: missing required key "listen"$/m);
    const doc = await s.statusFile();
    expect(doc?.supervisor.generation).toBe(1);
    expect(doc?.supervisor.config_error).toMatch(/supervisor\.yaml:11:1: http\.listen/);
    expect((await s.service("a"))?.pid).toBe(a.pid);
  });

  it("starts a service again that was removed and added back while its child was still stopping", async () => {
    // on SIGTERM the child leaves only once the test lets it: the undo is saved while it is still stopping
    const manifest = (web: boolean) => `
version: 1
services:
  a:
    command: sleep 301
${web ? "  web:\n    command: sh -c 'trap \"while [ ! -f release ]; do sleep 0.05; done; exit 0\" TERM; touch trapped; while true; do sleep 0.1; done'\n" : ""}`;
    const s = await stack(manifest(true));
    s.start();
    const a = await s.waitFor("a", (x) => x.state === "running", "to run");
    const web = await s.waitFor("web", (x) => x.state === "running", "to run");
    await expect.poll(() => access(join(s.dir, "trapped")).then(() => true, () => false), { timeout: 10_000 }).toBe(true);
    await writeFile(join(s.dir, "supervisor.yaml"), manifest(false));
    expect((await s.run(["reload"])).code).toBe(0);
    expect((await s.service("web"))?.state).toBe("stopping");
    await writeFile(join(s.dir, "supervisor.yaml"), manifest(true));
    // applied by this command or, a moment sooner, by the watch of the file
    expect((await s.run(["reload"])).code).toBe(0);
    expect((await s.service("web"))?.state).toBe("stopping");
    await writeFile(join(s.dir, "release"), "");
    const again = await s.waitFor("web", (x) => x.state === "running" && x.pid !== web.pid, "to run again");
    expect(isRunning(web.pid!)).toBe(false);
    expect(again.last_exit?.reason).toBe("config");
    expect((await s.service("a"))?.pid).toBe(a.pid);
    const restarted = await s.run(["restart", "web"]);
    expect(restarted.code).toBe(0);
    await s.waitFor("web", (x) => x.state === "running" && x.pid !== again.pid, "to run after a restart");
  });

  it("keeps the stack running with a warning when the manifest is deleted, and applies it once it is back", async () => {
    const s = await stack(BEFORE);
    s.start();
    const a = await s.waitFor("a", (x) => x.state === "running", "to run");
    const file = join(s.dir, "supervisor.yaml");
    await rm(file);
    await waitUntil(async () => /vigil warn: the manifest is gone; the running configuration stays until it is back/.test(s.stderr), "a warning");
    expect(s.stderr).not.toMatch(/vigil error: manifest not applied/);
    const events = (await readFile(join(s.dir, ".vigil", "events.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l) as { kind: string; level: string });
    expect(events.filter((e) => e.kind === "config-rejected").map((e) => e.level)).toEqual(["warn"]);
    await expect.poll(async () => (await s.statusFile())?.supervisor.config_error, { timeout: 10_000 }).toMatch(/cannot read manifest: ENOENT/);
    await writeFile(file, BEFORE.replace("sleep 303", "sleep 333"));
    await s.waitFor("c", (x) => x.command === "sleep 333" && x.state === "running", "to run the command of the manifest back");
    await expect.poll(async () => (await s.statusFile())?.supervisor.config_error, { timeout: 10_000 }).toBeNull();
    expect((await s.service("a"))?.pid).toBe(a.pid);
  });
});
