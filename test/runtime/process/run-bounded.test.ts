import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBounded } from "../../../src/runtime/process/run-bounded.js";
import { isGone, useProcesses, waitFor } from "../../support/processes.js";

const ENV = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };

const { adopt } = useProcesses();
let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-run-bounded-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const options = { cwd: "/", env: ENV, timeoutMs: 5000, outputLimitBytes: 1024 };

/** the pids a script wrote to file, one a line; each is SIGKILLed after the test should it still run */
async function pidsIn(file: string): Promise<number[]> {
  const pids = (await readFile(file, "utf8")).split("\n").filter(Boolean).map(Number);
  pids.forEach(adopt);
  return pids;
}

describe("runBounded", () => {
  it("reports the exit status and the output of both streams", async () => {
    const run = await runBounded(["sh", "-c", "echo out; echo err >&2; exit 3"], options);
    expect(run).toEqual({ exitCode: 3, signal: null, timedOut: false, stopped: false, output: "out\nerr" });
  });

  it("kills a command that ignores SIGTERM at its timeout, with its grandchildren in and out of its group", async () => {
    const pidFile = join(dir, "tree.pids");
    const script = `trap '' TERM; sleep 300 & echo $! >> ${pidFile}; setsid sleep 300 & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; wait`;
    // sleep 300 would outlast the test: an answer at all means the timeout acted
    const run = await runBounded(["sh", "-c", script], { ...options, timeoutMs: 500 });
    expect(run).toMatchObject({ timedOut: true, stopped: false, exitCode: null, signal: "SIGKILL" });
    const pids = await pidsIn(pidFile);
    expect(pids).toHaveLength(3);
    await waitFor(() => pids.every(isGone));
  });

  it("kills the command when stop aborts", async () => {
    const pidFile = join(dir, "stopped.pids");
    const stop = new AbortController();
    const pending = runBounded(["sh", "-c", `echo $$ > ${pidFile}; sleep 300`], { ...options, stop: stop.signal });
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").endsWith("\n"));
    stop.abort();
    expect(await pending).toMatchObject({ timedOut: false, stopped: true });
    const [pid] = await pidsIn(pidFile);
    await waitFor(() => isGone(pid!));
  });

  it("ends what the command left running in its group when it exits", async () => {
    const pidFile = join(dir, "left.pids");
    const run = await runBounded(["sh", "-c", `sleep 300 & echo $! > ${pidFile}`], options);
    expect(run).toMatchObject({ exitCode: 0, timedOut: false });
    const [sleeper] = await pidsIn(pidFile);
    await waitFor(() => isGone(sleeper!));
  });

  it("keeps only the first outputLimitBytes of a flood and marks the cut", async () => {
    const run = await runBounded(["sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x"], { ...options, outputLimitBytes: 100 });
    expect(run.exitCode).toBe(0);
    expect(run.output).toBe(`${"x".repeat(100)}…`);
  });

  it("reports a program that does not exist instead of throwing", async () => {
    const run = await runBounded(["no-such-program-for-vigil"], options);
    expect(run).toEqual({ exitCode: null, signal: null, timedOut: false, stopped: false, output: "", error: "ENOENT" });
  });

  it("writes input to the command's stdin", async () => {
    const run = await runBounded(["sh", "-c", "read line; echo got $line"], { ...options, input: "hello\n" });
    expect(run).toMatchObject({ exitCode: 0, output: "got hello" });
  });

  it("gives a command without input an empty stdin", async () => {
    const run = await runBounded(["sh", "-c", "cat; echo done"], options);
    expect(run).toMatchObject({ exitCode: 0, output: "done" });
  });
});
