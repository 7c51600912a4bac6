import { chmod, chown, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readProcStat } from "../../src/runtime/process/proc.js";
import { useProcesses, waitFor } from "../support/processes.js";
import { isRoot, OTHER_UID } from "../support/root.js";
import { isRunning, useStacks } from "../support/stack.js";

const stack = useStacks();
const { spawnGroup } = useProcesses();

const MARKED = `
version: 1
services:
  web:
    command: sh -c 'echo started > started.txt; echo hello; exec sleep 300'
`;

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(() => true, () => false);
}

describe("a state directory vigil cannot trust", () => {
  it("refuses a symlink planted in logs/, and does not append to the file it points at", async () => {
    const s = await stack(MARKED);
    const secret = join(s.dir, "secret.txt");
    await writeFile(secret, "root only\n", { mode: 0o600 });
    await mkdir(join(s.stateDir, "logs"), { recursive: true, mode: 0o700 });
    await symlink(secret, join(s.stateDir, "logs", "web.log"));
    const res = await s.run(["up"], 10_000);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(/^vigil: .*logs\/web\.log is a symbolic link/);
    expect(await readFile(secret, "utf8")).toBe("root only\n");
    expect(await exists(join(s.dir, "started.txt"))).toBe(false);
  });

  it.runIf(isRoot)("refuses a state directory owned by another user, exit 1, nothing started", async () => {
    const s = await stack(MARKED);
    await mkdir(s.stateDir, { mode: 0o700 });
    await chown(s.stateDir, OTHER_UID, OTHER_UID);
    const res = await s.run(["up"], 10_000);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(new RegExp(`^vigil: .*\\.vigil is owned by uid ${OTHER_UID}, not by uid 0 who runs vigil`));
    expect(await exists(join(s.dir, "started.txt"))).toBe(false);
  });

  it.runIf(isRoot)("refuses a file in the state directory owned by another user", async () => {
    const s = await stack(MARKED);
    await mkdir(s.stateDir, { mode: 0o700 });
    await writeFile(join(s.stateDir, "status.json"), "{}", { mode: 0o600 });
    await chown(join(s.stateDir, "status.json"), OTHER_UID, OTHER_UID);
    const res = await s.run(["up"], 10_000);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`^vigil: .*status\\.json is owned by uid ${OTHER_UID}`));
    expect(await exists(join(s.dir, "started.txt"))).toBe(false);
  });

  it("refuses a state directory that others may write to", async () => {
    const s = await stack(MARKED);
    await mkdir(s.stateDir);
    await chmod(s.stateDir, 0o777);
    const res = await s.run(["up"], 10_000);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(/^vigil: .*\.vigil is writable by group or others \(mode 0777\)/);
    expect(await exists(join(s.dir, "started.txt"))).toBe(false);
  });

  it("refuses a state directory on /proc or /sys in one line, at once (a recursive mkdir on /proc spins for ever)", async () => {
    for (const [dir, kind] of [
      [`/proc/vigil-test-${process.pid}/state`, "procfs"],
      [`/sys/vigil-test-${process.pid}`, "sysfs"],
    ] as const) {
      const s = await stack(`version: 1\nstate_dir: ${dir}\nservices:\n  web:\n    command: sh -c 'echo started > started.txt; exec sleep 300'\n`);
      const res = await s.run(["up"], 10_000);
      expect(res.code).toBe(1);
      expect(res.stderr.trim().split("\n")).toHaveLength(1);
      expect(res.stderr).toMatch(new RegExp(`^vigil: .*${dir.replaceAll("/", "\\/")} is on /\\w+ \\(${kind}\\), where vigil cannot keep files`));
      expect(await exists(join(s.dir, "started.txt"))).toBe(false);
    }
  });
});

describe("children.json from an earlier run", () => {
  it("does not end processes it cannot prove are its own children, however well their start time matches", async () => {
    const s = await stack(MARKED);
    // two processes vigil never started: one recorded without a token, one with a token it does not hold
    const bystanders = [spawnGroup("exec sleep 300"), spawnGroup("exec sleep 301")];
    const entries = await Promise.all(
      bystanders.map(async (p, i) => ({
        service: "web",
        pid: p.pid,
        pgid: p.pid,
        startTime: await waitFor(() => readProcStat(p.pid)?.startTime),
        stopSignal: "SIGKILL",
        stopTimeoutMs: 100,
        ...(i === 1 ? { token: "0123456789abcdef0123456789abcdef" } : {}),
      })),
    );
    await mkdir(s.stateDir, { mode: 0o700 });
    await writeFile(join(s.stateDir, "children.json"), JSON.stringify({ children: entries }), { mode: 0o600 });
    s.start();
    await s.waitFor("web", (x) => x.state === "running", "to run");
    for (const p of bystanders) expect(isRunning(p.pid), `bystander ${p.pid} was signalled`).toBe(true);
    expect(s.stderr).toMatch(new RegExp(`not ending pid ${entries[0]!.pid} .*no token`));
    expect(s.stderr).toMatch(new RegExp(`not ending pid ${entries[1]!.pid} .*does not hold its token`));
  });
});
