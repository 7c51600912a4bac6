// Where the native spawn is (Linux, proc backend), a command without input never loads execa, so it
// never forks the supervisor: execa is replaced here by a module that fails on import. The commands
// given input (alerts) take execa: run-bounded.test.ts, on both spawns.
import { describe, expect, it, vi } from "vitest";
import { runBounded } from "../../../src/runtime/process/run-bounded.js";
import { nativeSpawn } from "../../../src/runtime/process/native-spawn.js";

vi.mock("execa", () => {
  throw new Error("execa was loaded");
});

const options = { cwd: "/", env: { PATH: "/usr/bin:/bin" }, timeoutMs: 5000, outputLimitBytes: 1024 };

describe.runIf(nativeSpawn() !== null)("runBounded through the native spawn", () => {
  it("runs a command without input, and without execa", async () => {
    expect(await runBounded(["sh", "-c", "echo out; exit 4"], options)).toEqual({ exitCode: 4, signal: null, timedOut: false, stopped: false, output: "out" });
  });

  it("words a missing program and a bad working directory as execa does", async () => {
    expect((await runBounded(["no-such-program-for-vigil"], options)).error).toBe("ENOENT");
    expect((await runBounded(["true"], { ...options, cwd: "/no/such/dir" })).error).toBe('The "cwd" option is invalid: /no/such/dir.');
    expect((await runBounded(["true"], { ...options, cwd: "/etc/hostname" })).error).toBe('The "cwd" option is not a directory: /etc/hostname.');
  });

  it("tells a signal that ended the command, also the kill at its timeout", async () => {
    expect(await runBounded(["sh", "-c", "kill -KILL $$"], options)).toMatchObject({ exitCode: null, signal: "SIGKILL" });
    expect(await runBounded(["sleep", "300"], { ...options, timeoutMs: 200 })).toMatchObject({ exitCode: null, signal: "SIGKILL", timedOut: true });
  });
});
