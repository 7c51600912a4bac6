import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRunning, useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

const BASE = `version: 1
defaults:
  restart: { policy: on-failure }
services:
  keep:
    command: sleep 301
  web:
    command: sleep 302
    env_file: web.env
  tuned:
    command: sleep 303
    restart: { policy: always }
`;

async function save(dir: string, text: string, how: "write" | "rename" = "write"): Promise<void> {
  const file = join(dir, "supervisor.yaml");
  if (how === "write") return writeFile(file, text);
  // what editors do: write a temporary file beside it, then rename it over the manifest
  const tmp = join(dir, ".supervisor.yaml.tmp");
  await writeFile(tmp, text);
  await rename(tmp, file);
}

describe("watching the manifest", () => {
  it("applies an atomic save: adds a service and leaves the others their PIDs", async () => {
    const s = await stack(BASE, { "web.env": "PORT=1\n" });
    s.start();
    const pids = new Map<string, number>();
    for (const name of ["keep", "web", "tuned"]) pids.set(name, (await s.waitFor(name, (x) => x.state === "running", "to run")).pid!);
    await save(s.dir, `${BASE}  added:\n    command: sleep 304\n`, "rename");
    await s.waitFor("added", (x) => x.state === "running", "to be added by the save");
    const doc = await s.statusFile();
    expect(doc?.supervisor.generation).toBe(2);
    for (const [name, pid] of pids) expect(doc?.services.find((x) => x.name === name)?.pid).toBe(pid);
  });

  it("restarts only the service whose env_file changed, and applies defaults to those that inherit them", async () => {
    const s = await stack(BASE, { "web.env": "PORT=1\n" });
    s.start();
    const keep = await s.waitFor("keep", (x) => x.state === "running", "to run");
    const web = await s.waitFor("web", (x) => x.state === "running", "to run");
    const tuned = await s.waitFor("tuned", (x) => x.state === "running", "to run");
    await writeFile(join(s.dir, "web.env"), "PORT=2\n");
    const web2 = await s.waitFor("web", (x) => x.pid !== web.pid && x.state === "running", "to restart for its env file");
    expect(web2.last_exit?.reason).toBe("config");
    expect((await s.service("keep"))?.pid).toBe(keep.pid);
    // a default changed: supervision only, so applied in place everywhere, no restart
    await save(s.dir, BASE.replace("policy: on-failure", "policy: never"));
    await waitUntil(async () => (await s.statusFile())?.supervisor.generation === 3, "generation 3");
    expect(s.stderr).toMatch(/keep: updated in place \(restart\.policy\)/);
    expect(s.stderr).not.toMatch(/tuned: updated in place/);
    for (const [name, pid] of [["keep", keep.pid], ["web", web2.pid], ["tuned", tuned.pid]] as const) {
      expect((await s.service(name))?.pid).toBe(pid);
    }
  });

  it("keeps running through a bad save, shows config_error, and clears it with the fix", async () => {
    const s = await stack(BASE, { "web.env": "PORT=1\n" });
    s.start();
    const keep = await s.waitFor("keep", (x) => x.state === "running", "to run");
    await save(s.dir, BASE.replace("sleep 301", "sleep 301\n    restart: { policy: sometimes }"));
    await waitUntil(async () => ((await s.statusFile())?.supervisor.config_error ?? "").includes("sometimes"), "config_error set");
    const bad = (await s.statusFile())!;
    expect(bad.supervisor.config_error).toMatch(/supervisor\.yaml:7:\d+: services\.keep\.restart\.policy: /);
    expect(bad.supervisor.generation).toBe(1);
    expect((await s.service("keep"))?.pid).toBe(keep.pid);
    await save(s.dir, BASE.replace("sleep 301", "sleep 311"));
    await s.waitFor("keep", (x) => x.command === "sleep 311" && x.state === "running", "to run the fixed command");
    const fixed = (await s.statusFile())!;
    expect(fixed.supervisor.config_error).toBeNull();
    expect(fixed.supervisor.generation).toBe(2);
  });

  it("applies a burst of 20 saves once, with the final content", async () => {
    const s = await stack(BASE, { "web.env": "PORT=1\n" });
    s.start();
    const keep = await s.waitFor("keep", (x) => x.state === "running", "to run");
    for (let i = 1; i <= 20; i++) await save(s.dir, BASE.replace("sleep 301", `sleep ${400 + i}`));
    const final = await s.waitFor("keep", (x) => x.command === "sleep 420" && x.state === "running", "to run the last version");
    expect(final.pid).not.toBe(keep.pid);
    const doc = (await s.statusFile())!;
    expect(doc.supervisor.generation).toBe(2);
    expect(final.restarts).toBe(1);
  });

  it("keeps running and warns when the manifest is deleted", async () => {
    const s = await stack(BASE, { "web.env": "PORT=1\n" });
    s.start();
    const keep = await s.waitFor("keep", (x) => x.state === "running", "to run");
    await rm(join(s.dir, "supervisor.yaml"));
    await waitUntil(async () => ((await s.statusFile())?.supervisor.config_error ?? "").includes("ENOENT"), "config_error says the file is gone");
    expect(isRunning(keep.pid!)).toBe(true);
    await waitUntil(async () => /vigil warn: the manifest is gone/.test(s.stderr), "a warning that the manifest is gone");
    expect(s.stderr).not.toMatch(/manifest not applied/);
  });
});
