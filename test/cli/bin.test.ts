// The installed command: bin/vigil as npm links it (a symlink in node_modules/.bin).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { isRunning, useStacks, waitUntil } from "../support/stack.js";

const BIN = resolve(import.meta.dirname, "../../bin/vigil");
const run = promisify(execFile);
const stack = useStacks();

let linkDir = "";
afterEach(async () => {
  if (linkDir) await rm(linkDir, { recursive: true, force: true });
  linkDir = "";
});

/** node_modules/.bin/vigil -> ../vigil/bin/vigil, as npm makes it, with the package copied by link */
async function linkedBin(): Promise<string> {
  linkDir = await mkdtemp(join(tmpdir(), "vigil-bin-"));
  await mkdir(join(linkDir, "node_modules/.bin"), { recursive: true });
  await symlink(resolve(BIN, "../.."), join(linkDir, "node_modules/vigil"));
  await symlink("../vigil/bin/vigil", join(linkDir, "node_modules/.bin/vigil"));
  return join(linkDir, "node_modules/.bin/vigil");
}

describe("bin/vigil", () => {
  it("finds the CLI through npm's symlink and passes the arguments and exit status through", async () => {
    const bin = await linkedBin();
    expect((await run(bin, ["--version"])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const failed = await run(bin, ["check", "-f", join(linkDir, "missing.yaml")]).catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(/missing\.yaml/);
  });

  it("runs `vigil up` as one node process with the daemon's V8 setting and VIGIL_NODE_OPTIONS, ended by that pid", async () => {
    const bin = await linkedBin();
    const s = await stack("version: 1\nservices:\n  idle: { command: sleep 300 }\n");
    const up = s.start([], { VIGIL_NODE_OPTIONS: "--stack-trace-limit=20" }, bin);
    const idle = await s.waitFor("idle", (x) => x.state === "running", "to run");
    // the shell exec'd node: the pid we started is the supervisor itself
    const argv = (await readFile(`/proc/${up.pid}/cmdline`, "utf8")).split("\0");
    expect(argv).toEqual(expect.arrayContaining(["--optimize-for-size", "--max-semi-space-size=1", "--stack-trace-limit=20", "up"]));
    expect((await s.statusFile())?.supervisor.pid).toBe(up.pid);
    up.kill("SIGTERM");
    expect(await s.exited()).toBe(0);
    expect(isRunning(idle.pid!)).toBe(false);
  });

  it("runs `vigil status` from its one-file bundle, and leaves help and unknown options to commander", async () => {
    const bin = await linkedBin();
    const s = await stack("version: 1\nservices:\n  idle: { command: sleep 300 }\n");
    s.start();
    await s.waitFor("idle", (x) => x.state === "running", "to run");
    const file = join(s.dir, "supervisor.yaml");
    const doc = JSON.parse((await run(bin, ["status", "--json", "-f", file])).stdout) as { services: { name: string; state: string }[] };
    expect(doc.services).toEqual([expect.objectContaining({ name: "idle", state: "running" })]);
    // a status that stays is the bundle's node process, as its command line shows
    const watch = execFile(bin, ["status", "--watch", "-f", file]);
    let out = "";
    watch.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    const ended = new Promise<number | null>((resolve) => watch.on("exit", (code) => resolve(code)));
    await waitUntil(async () => out.includes("idle"), () => `status --watch showed ${JSON.stringify(out)}`);
    expect((await readFile(`/proc/${watch.pid}/cmdline`, "utf8")).split("\0")).toEqual(expect.arrayContaining([expect.stringMatching(/dist\/cli\/status\.cjs$/), "status", "--watch"]));
    watch.kill("SIGINT");
    expect(await ended).toBe(0);
    expect((await run(bin, ["status", "--help"])).stdout).toMatch(/^Usage: vigil status/);
    const unknown = await run(bin, ["status", "--bogus"]).catch((err: { code: number; stderr: string }) => err);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown option '--bogus'/) });
    const none = await run(bin, ["status", "-f", join(linkDir, "missing", "supervisor.yaml")]).catch((err: { code: number; stderr: string }) => err);
    expect(none).toMatchObject({ code: 1, stderr: expect.stringMatching(/^vigil: no supervisor is running for this stack/) });
    // no manifest named, none found: the bundle says so in the line main.js says it in
    const lost = await run(bin, ["status"], { cwd: linkDir, env: { ...process.env, VIGIL_FILE: "" } }).catch((err: { code: number; stderr: string }) => err);
    expect(lost).toMatchObject({ code: 1, stderr: `vigil: no supervisor.yaml in ${linkDir} or any directory above it; name the manifest with -f FILE or VIGIL_FILE\n` });
    // a state_dir only the YAML parser reads (an escape), which the bundle loads from the package
    await writeFile(join(linkDir, "escaped.yaml"), 'version: 1\nstate_dir: "st\\u0061te"\nservices:\n  a: { command: sleep 1 }\n');
    const escaped = await run(bin, ["status", "-f", join(linkDir, "escaped.yaml")]).catch((err: { code: number; stderr: string }) => err);
    expect(escaped).toMatchObject({ code: 1, stderr: expect.stringContaining(join(linkDir, "state", "control.sock")) });
  });
});
