// spawnChild against real children, on whichever spawn this run uses: native/spawn.c on Linux with the
// proc backend, node:child_process under `npm run test:portable`. Both must give a child the same start.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawnChild, type ChildCallbacks, type ChildHandle } from "../../../src/runtime/process/child.js";
import { nativeSpawn } from "../../../src/runtime/process/native-spawn.js";
import { useProcesses } from "../../support/processes.js";

const { adoptGroup } = useProcesses();
let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-child-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BASE_ENV = { PATH: "/usr/bin:/bin" };

interface Outcome {
  readonly pid: number | undefined;
  readonly handle: ChildHandle;
  readonly out: string[];
  readonly err: string[];
  readonly messages: unknown[];
  readonly ended: Promise<{ exit: [number | null, string | null] } | { spawnError: string }>;
}

function run(argv: readonly string[], opts: { env?: Record<string, string>; cwd?: string; ipc?: boolean; fds?: number[] } = {}): Outcome {
  const out: string[] = [];
  const err: string[] = [];
  const messages: unknown[] = [];
  let settle: (v: { exit: [number | null, string | null] } | { spawnError: string }) => void = () => undefined;
  const ended = new Promise<{ exit: [number | null, string | null] } | { spawnError: string }>((resolve) => (settle = resolve));
  const cb: ChildCallbacks = {
    onLine: (stream, line) => (stream === "out" ? out : err).push(line),
    onExit: (code, signal) => settle({ exit: [code, signal] }),
    onSpawnError: (message) => settle({ spawnError: message }),
    onMessage: (message) => messages.push(message),
  };
  const fds = opts.fds ?? [];
  const handle = spawnChild({ argv, cwd: opts.cwd ?? dir }, { ...BASE_ENV, ...opts.env }, opts.ipc ?? false, cb, null, fds.length > 0 ? { fds, names: fds.map((_, i) => `s${i}`) } : null);
  if (handle.pid !== undefined) adoptGroup(handle.pid);
  return { pid: handle.pid, handle, out, err, messages, ended };
}

/**
 * The outcome once the child has exited and `lines` lines (stdout, stderr and IPC messages together) have
 * been read, or `lines()` is true: the exit can be told before the last output is read, by a moment or, on a loaded machine, more.
 */
async function finished(o: Outcome, lines: number | (() => boolean)): Promise<{ exit: [number | null, string | null] } | { spawnError: string }> {
  const end = await o.ended;
  const done = typeof lines === "function" ? lines : () => o.out.length + o.err.length + o.messages.length >= lines;
  const deadline = Date.now() + 10_000;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  // and a turn more, for any line past those awaited
  await new Promise((resolve) => setImmediate(resolve));
  return end;
}

describe("spawnChild", () => {
  it.runIf(process.env["CI"] !== undefined && process.platform === "linux" && process.env["VIGIL_PROCESS_BACKEND"] !== "portable")(
    "spawns without forking vigil on Linux in CI (the native spawn was built and loads)",
    () => {
      expect(nativeSpawn()).not.toBeNull();
    },
  );

  it("runs the command with its arguments, environment and working directory, and tells its exit code", async () => {
    const o = run(["sh", "-c", 'echo "$1 $FOO $(pwd)"; echo oops >&2; exit 7', "sh", "one"], { env: { FOO: "bar" } });
    expect(o.pid).toBeGreaterThan(0);
    expect(await finished(o, 2)).toEqual({ exit: [7, null] });
    expect(o.out).toEqual([`one bar ${dir}`]);
    expect(o.err).toEqual(["oops"]);
  });

  it("names the signal that ended the child", async () => {
    const o = run(["sh", "-c", "kill -USR1 $$; sleep 5"]);
    expect(await finished(o, 0)).toEqual({ exit: [null, "SIGUSR1"] });
  });

  it("starts the child as a fresh process: no signal ignored or blocked, stdin on /dev/null, no socket of vigil's", async () => {
    // grep reads its own status: a shell that forks blocks every signal for a moment around each fork
    const signals = run(["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]);
    expect(await finished(signals, 2)).toEqual({ exit: [0, null] });
    const mask = (name: string): bigint => BigInt(`0x${signals.out.find((l) => l.startsWith(`${name}:`))?.split("\t")[1] ?? "ffff"}`);
    // none at all: Node ignores SIGPIPE, and a child must not inherit that; nor the two real-time signals
    // of glibc (32, 33), which its posix_spawn sets to SIG_IGN unless told to reset them too
    expect(mask("SigIgn")).toBe(0n);
    expect(mask("SigBlk")).toBe(0n);
    const o = run(["sh", "-c", 'for f in /proc/$$/fd/*; do echo "fd ${f##*/} $(readlink "$f")"; done; echo end']);
    expect(await finished(o, () => o.out.includes("end"))).toEqual({ exit: [0, null] });
    const fds = new Map(o.out.filter((l) => l.startsWith("fd ")).map((l) => [Number(l.split(" ")[1]), l.split(" ").slice(2).join(" ")]));
    expect(fds.get(0)).toBe("/dev/null");
    expect(fds.get(1)).toMatch(/^socket:/);
    expect(fds.get(2)).toMatch(/^socket:/);
    // whatever the test runner itself inherited may pass through; none of vigil's sockets does
    expect([...fds].filter(([fd, target]) => fd > 2 && target.startsWith("socket:"))).toEqual([]);
  });

  it("makes the child the leader of its own session and group", async () => {
    const o = run(["sh", "-c", "cat /proc/$$/stat"]);
    expect(await finished(o, 3)).toEqual({ exit: [0, null] });
    const after = o.out[0]!.slice(o.out[0]!.lastIndexOf(")") + 2).split(" ");
    // fields after the name: state, ppid, pgrp, session
    expect(Number(after[2])).toBe(o.pid);
    expect(Number(after[3])).toBe(o.pid);
    expect(Number(after[1])).toBe(process.pid);
  });

  it("finds a bare command name in the PATH of the child's environment, not vigil's", async () => {
    mkdirSync(join(dir, "bin"));
    writeFileSync(join(dir, "bin", "vigil-test-cmd"), "#!/bin/sh\necho found \"$@\"\n");
    chmodSync(join(dir, "bin", "vigil-test-cmd"), 0o755);
    const o = run(["vigil-test-cmd", "x"], { env: { PATH: `/nonexistent:${join(dir, "bin")}:/usr/bin:/bin` } });
    expect(await finished(o, 1)).toEqual({ exit: [0, null] });
    expect(o.out).toEqual(["found x"]);
  });

  it("takes a relative PATH entry from the child's working directory, as execvp in the child does", async () => {
    mkdirSync(join(dir, "tools"));
    writeFileSync(join(dir, "tools", "vigil-rel-cmd"), "#!/bin/sh\necho relative\n");
    chmodSync(join(dir, "tools", "vigil-rel-cmd"), 0o755);
    const o = run(["vigil-rel-cmd"], { env: { PATH: "tools:/usr/bin:/bin" } });
    expect(await finished(o, 1)).toEqual({ exit: [0, null] });
    expect(o.out).toEqual(["relative"]);
  });

  it("runs a script without a #! line under /bin/sh, as execvp does", async () => {
    writeFileSync(join(dir, "plain"), "echo plain \"$1\"\nexit 4\n");
    chmodSync(join(dir, "plain"), 0o755);
    const o = run(["./plain", "arg"]);
    expect(await finished(o, 1)).toEqual({ exit: [4, null] });
    expect(o.out).toEqual(["plain arg"]);
  });

  it("reports a command that does not exist as Node names it, and no exit", async () => {
    const o = run(["vigil-no-such-command-here"]);
    expect(o.pid).toBeUndefined();
    expect(await o.ended).toEqual({ spawnError: "spawn vigil-no-such-command-here ENOENT" });
  });

  it("reports a file that is not executable", async () => {
    writeFileSync(join(dir, "data"), "echo no\n");
    const o = run(["./data"]);
    expect(await o.ended).toEqual({ spawnError: "spawn ./data EACCES" });
  });

  it("says when the working directory is what is missing", async () => {
    const o = run(["sh", "-c", "exit 0"], { cwd: join(dir, "gone") });
    const end = await o.ended;
    expect(end).toMatchObject({ spawnError: expect.stringContaining(`the "cwd" ${join(dir, "gone")} cannot be used`) });
  });

  it("refuses a NUL byte in an argument without starting anything", async () => {
    const o = run(["sh", "-c", "echo a\u0000b"]);
    expect(o.pid).toBeUndefined();
    expect(await o.ended).toMatchObject({ spawnError: expect.stringMatching(/null bytes/) });
  });

  it("gives listening descriptors from 3 on, with LISTEN_FDS, and the IPC channel after them", async () => {
    writeFileSync(join(dir, "a"), "first\n");
    writeFileSync(join(dir, "b"), "second\n");
    const a = openSync(join(dir, "a"), "r");
    const b = openSync(join(dir, "b"), "r");
    try {
      const o = run(["sh", "-c", 'cat <&3; cat <&4; echo "$LISTEN_FDS $LISTEN_FDNAMES $NODE_CHANNEL_FD"; [ "$LISTEN_PID" = "$$" ] && echo pid-ok; echo \'{"type":"beat"}\' >&5; echo not-json >&5'], { fds: [a, b], ipc: true });
      expect(await finished(o, 6)).toEqual({ exit: [0, null] });
      expect(o.out).toEqual(["first", "second", "2 s0:s1 5", "pid-ok"]);
      expect(o.messages[0]).toEqual({ type: "beat" });
      expect(o.messages).toHaveLength(2);
      expect(typeof o.messages[1]).toBe("symbol");
    } finally {
      closeSync(a);
      closeSync(b);
    }
  });

  it("reads output written after the exit by a descendant that holds the pipe, and the last line without its newline", async () => {
    const o = run(["sh", "-c", "(sleep 0.2; printf 'late') & echo early"]);
    expect(await o.ended).toEqual({ exit: [0, null] });
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`only ${JSON.stringify(o.out)}`)), 5000);
      const look = (): void => {
        if (o.out.includes("late")) {
          clearTimeout(deadline);
          resolve();
        } else setTimeout(look, 20);
      };
      look();
    });
    expect(o.out).toEqual(["early", "late"]);
  });

  it("reads a flood of output whole, in order, on both streams", async () => {
    // 20,000 numbered lines on stdout (about 1 MB) and 2,000 on stderr, written as fast as awk can
    const o = run(["sh", "-c", "awk 'BEGIN { for (i = 0; i < 20000; i++) printf \"%06d %s\\n\", i, \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" }'; seq 2000 >&2"]);
    expect(await finished(o, 22_000)).toEqual({ exit: [0, null] });
    expect(o.out).toHaveLength(20_000);
    expect(o.out.every((line, i) => line.startsWith(String(i).padStart(6, "0")))).toBe(true);
    expect(o.err).toEqual(Array.from({ length: 2000 }, (_, i) => String(i + 1)));
  });

  it("closes the pipes a descendant still holds once the job is released: its later writes fail", async () => {
    const marker = join(dir, "write-failed");
    // the descendant ignores SIGPIPE, writes until a write fails with EPIPE, and says so in a file
    const o = run(["sh", "-c", `(trap '' PIPE; while echo tick; do sleep 0.05; done; touch ${marker}) & echo early`]);
    expect(await finished(o, () => o.out.includes("tick"))).toEqual({ exit: [0, null] });
    o.handle.release();
    const deadline = Date.now() + 10_000;
    while (!existsSync(marker) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(existsSync(marker)).toBe(true);
    expect(o.out).toContain("early");
  });
});
