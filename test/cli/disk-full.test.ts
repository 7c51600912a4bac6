import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StatusDocument } from "../../src/control/status-document.js";
import { isRoot, useMounts } from "../support/root.js";
import { useStacks, waitUntil, type Stack } from "../support/stack.js";

const stack = useStacks();
// registered after the stacks: unmounted first, while the supervisor may still run
const mounts = useMounts();

const MANIFEST = `
version: 1
services:
  chatty:
    # lines of 1 KB: the last page of its log file, which a full tmpfs still has room in, fills at once
    command: sh -c 'while :; do printf "%01000d\\n" 0; sleep 0.1; done'
  worker:
    command: sleep 300
    restart: { policy: always }
`;

async function statusDoc(s: Stack): Promise<StatusDocument> {
  const res = await s.run(["status", "--json"]);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as StatusDocument;
}

/** Writes until the file system says ENOSPC. */
async function fill(dir: string): Promise<void> {
  await expect(writeFile(join(dir, "filler"), Buffer.alloc(4 * 1024 * 1024, 1))).rejects.toThrow(/ENOSPC/);
}

const temps = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((name) => name.endsWith(".tmp"));

const count = (text: string, re: RegExp): number => (text.match(new RegExp(re, "g")) ?? []).length;

describe.runIf(isRoot)("a full disk under the state directory", () => {
  it("is shown in vigil status, said once in the log, leaves no temp files, and its end is said once too", async () => {
    const s = await stack(MANIFEST);
    await mkdir(s.stateDir, { mode: 0o700 });
    mounts.tmpfs(s.stateDir, 1024 * 1024);
    s.start();
    const worker = await s.waitFor("worker", (x) => x.state === "running", "to run");
    await fill(s.stateDir);
    // every restart is a change worth a status.json and a children.json rewrite
    for (let i = 0; i < 3; i++) expect((await s.run(["restart", "worker"])).code).toBe(0);
    await waitUntil(async () => (await statusDoc(s)).supervisor.problems.some((p) => /status\.json/.test(p.message)), "status.json's problem");
    const doc = await statusDoc(s);
    const problem = doc.supervisor.problems.find((p) => /status\.json/.test(p.message));
    expect(problem).toMatchObject({ kind: "disk" });
    expect(problem?.message).toMatch(/no space left on device/);
    expect(Date.parse(problem?.since ?? "")).toBeGreaterThan(0);
    expect(doc.services.find((x) => x.name === "worker")?.pid).not.toBe(worker.pid);
    const table = await s.run(["status"]);
    expect(table.stdout).toMatch(/^problems: .*disk: cannot write status\.json: no space left on device/m);
    // the status file on disk is the last one that could be written: older than the document served
    expect((await s.statusFile())?.services.find((x) => x.name === "worker")?.pid).toBe(worker.pid);
    for (let i = 0; i < 3; i++) expect((await s.run(["restart", "worker"])).code).toBe(0);
    await waitUntil(() => /cannot write .*logs\/chatty\.log/.test(s.stderr), () => `the service log's problem\n${s.stderr}`);
    // a write may be in flight at any moment, its temp file with it; one left behind would stay
    await waitUntil(async () => (await temps(s.stateDir)).length === 0, "no temp files left behind");
    expect(count(s.stderr, /cannot write .*status\.json/)).toBe(1);
    expect(count(s.stderr, /cannot write .*children\.json/)).toBe(1);
    expect(count(s.stderr, /cannot write .*logs\/chatty\.log/)).toBe(1);

    await rm(join(s.stateDir, "filler"));
    expect((await s.run(["restart", "worker"])).code).toBe(0);
    await waitUntil(async () => (await statusDoc(s)).supervisor.problems.length === 0, () => `the problems to clear\n${s.stderr}`);
    await waitUntil(async () => (await s.statusFile())?.supervisor.problems.length === 0, "status.json written again");
    expect(count(s.stderr, /status\.json is written again/)).toBe(1);
    await waitUntil(async () => (await temps(s.stateDir)).length === 0, "no temp files left behind");
  });
});
