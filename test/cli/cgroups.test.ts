// Every child is in its job's cgroup from its first moments, whether several start in one turn or one
// restarts back to back, and `vigil up` never leaves its own leaf. A child is moved in the moment its
// spawn returns, so a shell may fork its first command a moment before that (in vigil's leaf, from where
// vigil moves it after the shell: test/runtime/process/cgroup.test.ts): each child here first waits
// until its shell is out of vigil's leaf, then says where it is.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openCgroupRoot } from "../../src/runtime/process/cgroup.js";
import { useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

// needs a writable cgroup2 hierarchy (root on a machine with one), and the /proc process table: with
// VIGIL_PROCESS_BACKEND=portable (npm run test:portable) vigil makes no cgroups, as off Linux
const outcome = openCgroupRoot();
outcome.root?.close();
const cgroupsUsed = outcome.root !== null && process.env["VIGIL_PROCESS_BACKEND"] !== "portable";

/** the "0::" lines a file holds (children append their own /proc/self/cgroup line) */
async function cgroupLines(path: string): Promise<string[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text.split("\n").filter((line) => line.startsWith("0::"));
}

/** a shell's first command: until the shell is out of vigil's leaf (a moment at most), nothing */
const MOVED = "until ! grep -q /supervisor$ /proc/self/cgroup; do :; done";

describe.runIf(cgroupsUsed)("children in their cgroups", () => {
  it("gives each of services started in one turn, and each restart back to back, its job's cgroup; vigil is home after", async () => {
    const s = await stack(`
version: 1
services:
  a: { command: ["sh", "-c", "${MOVED}; grep ^0:: /proc/self/cgroup > a.cg; exec sleep 3001"] }
  b: { command: ["sh", "-c", "${MOVED}; grep ^0:: /proc/self/cgroup > b.cg; exec sleep 3002"] }
  c: { command: ["sh", "-c", "${MOVED}; grep ^0:: /proc/self/cgroup > c.cg; exec sleep 3003"] }
  flap:
    command: ["sh", "-c", "${MOVED}; grep ^0:: /proc/self/cgroup >> flap.cg; echo run $(wc -l < flap.cg); exit 1"]
    restart: { policy: always, backoff: { initial: 0 }, max_restarts: 20, window: 10m }
`);
    const up = s.start([], { VIGIL_CGROUP: undefined });
    await s.waitFor("flap", (x) => x.state === "fatal", "to give up after 20 restarts");
    for (const name of ["a", "b", "c"]) await s.waitFor(name, (x) => x.state === "running", "to run");
    const mine = `/vigil-${up.pid}/`;
    for (const name of ["a", "b", "c"]) {
      await waitUntil(async () => (await cgroupLines(join(s.dir, `${name}.cg`))).length === 1, `${name}'s cgroup line`);
      expect(await cgroupLines(join(s.dir, `${name}.cg`))).toEqual([expect.stringMatching(new RegExp(`${mine}${name}\\+?$`))]);
    }
    const flaps = await cgroupLines(join(s.dir, "flap.cg"));
    expect(flaps).toHaveLength(21);
    for (const line of flaps) expect(line).toMatch(new RegExp(`${mine}flap\\+?$`));
    // vigil is in its own leaf, in none of the cgroups it may kill
    expect(await cgroupLines(`/proc/${up.pid}/cgroup`)).toEqual([expect.stringMatching(new RegExp(`${mine}supervisor$`))]);
    // and the log of the restarts has every run's line, in order
    const runs = Array.from({ length: 21 }, (_, i) => `run ${i + 1}`);
    const logged = async (): Promise<string[]> =>
      (await readFile(join(s.stateDir, "logs", "flap.log"), "utf8").catch(() => "")).split("\n").filter(Boolean).map((line) => line.replace(/^\S+ out /, ""));
    await waitUntil(async () => (await logged()).length === 21, "21 lines in flap.log");
    expect(await logged()).toEqual(runs);
  });
});
