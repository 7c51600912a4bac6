import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { chmod, mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseLogLine, readTail } from "../../src/cli/logs.js";
import { CLI, useStacks, waitUntil, type Stack } from "../support/stack.js";

describe("reading the last lines of a service's log", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const numbered = (from: number, to: number): string => {
    const lines: string[] = [];
    for (let i = from; i <= to; i++) lines.push(`2026-11-22T10:00:00.000Z out line ${i} ✓`);
    return `${lines.join("\n")}\n`;
  };

  it("reads ten lines of a big file from its end, a chunk or two, not the whole file", async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-tail-"));
    const path = join(dir, "api.log");
    await writeFile(path, numbered(1, 300_000)); // about 12 MB
    const file = await open(path, "r");
    let bytesRead = 0;
    const read = file.read.bind(file) as (...args: unknown[]) => Promise<{ bytesRead: number }>;
    Object.assign(file, {
      read: async (...args: unknown[]) => {
        const r = await read(...args);
        bytesRead += r.bytesRead;
        return r;
      },
    });
    try {
      const tail = await readTail(path, 10, file);
      expect(tail.lines).toEqual(numbered(299_991, 300_000).trimEnd().split("\n"));
      expect(tail.end).toBe((await stat(path)).size);
      expect(bytesRead).toBeLessThanOrEqual(64 * 1024);
    } finally {
      await file.close();
    }
  });

  it("reaches back into rotated files, oldest last, when the current one holds fewer lines", async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-tail-"));
    const path = join(dir, "api.log");
    await writeFile(`${path}.2`, numbered(1, 100));
    await writeFile(`${path}.1`, numbered(101, 200));
    await writeFile(path, numbered(201, 203));
    // a chunk much smaller than the files, so that lines cross chunk boundaries
    expect((await readTail(path, 5, null, 37)).lines).toEqual(numbered(199, 203).trimEnd().split("\n"));
    expect((await readTail(path, 150, null, 37)).lines).toEqual(numbered(54, 203).trimEnd().split("\n"));
    expect((await readTail(path, 1000, null, 37)).lines).toEqual(numbered(1, 203).trimEnd().split("\n"));
    expect((await readTail(path, 0, null, 37)).lines).toEqual([]);
  });

  it("leaves out a line still being written, and says where the complete lines end", async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-tail-"));
    const path = join(dir, "api.log");
    await writeFile(path, "first\nsecond\nthird, half");
    expect(await readTail(path, 10, null, 4)).toEqual({ lines: ["first", "second"], end: 13 });
    expect(await readTail(join(dir, "none.log"), 10)).toEqual({ lines: [], end: 0 });
  });

  it("parses the time and stream of a line, and keeps a line without them as output", () => {
    expect(parseLogLine("api", "2026-11-22T10:00:00.123Z err oops: a b", 0)).toEqual({
      service: "api", atMs: Date.parse("2026-11-22T10:00:00.123Z"), stream: "err", text: "oops: a b",
    });
    expect(parseLogLine("api", "2026-11-22T10:00:00.123Z out ", 0).text).toBe("");
    expect(parseLogLine("api", "[vigil: 3 lines dropped]", 42)).toEqual({ service: "api", atMs: 42, stream: "out", text: "[vigil: 3 lines dropped]" });
  });
});

const stack = useStacks();

// each waits until the other's line is in vigil's log before it writes its next one: the order of the
// lines' timestamps is the one below however slow the machine
const TWO_PRINTERS = `
version: 1
services:
  alpha:
    command: sh -c 'w() { until grep -q " $1\$" .vigil/logs/$2.log 2>/dev/null; do sleep 0.02; done; }; echo a1; w b1 beta; echo a2; w b2 beta; echo a3; exec sleep 300'
  beta:
    command: sh -c 'w() { until grep -q " $1\$" .vigil/logs/$2.log 2>/dev/null; do sleep 0.02; done; }; w a1 alpha; echo b1; w a2 alpha; echo b2 >&2; w a3 alpha; echo b3; exec sleep 300'
`;

async function logged(s: Stack, name: string, text: string): Promise<void> {
  const path = join(s.stateDir, "logs", `${name}.log`);
  await waitUntil(async () => (await readFile(path, "utf8").catch(() => "")).includes(` ${text}\n`), `${text} in ${path}`);
}

/** `vigil logs ARGS` running in the background, its output collected. */
function follower(s: Stack, args: readonly string[]): { child: ChildProcessWithoutNullStreams; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, "logs", ...args], { cwd: s.dir, env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, out: () => out, exited };
}

describe("vigil logs", () => {
  it("prints every service's lines interleaved by time, stderr marked with !", async () => {
    const s = await stack(TWO_PRINTERS);
    s.start();
    await logged(s, "alpha", "a3");
    await logged(s, "beta", "b3");
    const res = await s.run(["logs"]);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe("");
    // the order of the lines' own timestamps
    const entries = await Promise.all(
      ["alpha", "beta"].map(async (name) =>
        (await readFile(join(s.stateDir, "logs", `${name}.log`), "utf8")).trimEnd().split("\n").map((l) => parseLogLine(name, l, 0)),
      ),
    );
    const expected = entries.flat().sort((a, b) => a.atMs - b.atMs).map((e) => `${e.service.padEnd(5)} ${e.stream === "err" ? "!" : "|"} ${e.text}`);
    expect(res.stdout.trimEnd().split("\n")).toEqual(expected);
    expect(expected).toEqual(["alpha | a1", "beta  | b1", "alpha | a2", "beta  ! b2", "alpha | a3", "beta  | b3"]);
  });

  it("prints the last N lines of one service, also once the supervisor is gone", async () => {
    const s = await stack(TWO_PRINTERS);
    s.start();
    await logged(s, "alpha", "a3");
    expect((await s.run(["logs", "alpha", "-n", "2"])).stdout).toBe("alpha | a2\nalpha | a3\n");
    expect((await s.run(["down"])).code).toBe(0);
    const after = await s.run(["logs", "alpha", "--lines", "1", "--file", "supervisor.yaml"]);
    expect(after).toMatchObject({ code: 0, stdout: "alpha | a3\n" });
  });

  it("refuses an unknown name in one line that names the known ones, and a count that is no number", async () => {
    const s = await stack(TWO_PRINTERS);
    const res = await s.run(["logs", "alpha", "gamma"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe("vigil: unknown service gamma (known: alpha, beta)\n");
    const bad = await s.run(["logs", "-n", "ten"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected a whole number of lines/);
  });

  it("follows a service's new lines until ctrl-c, then exits 0", async () => {
    const s = await stack(`
version: 1
services:
  ticker:
    command: sh -c 'i=0; while true; do i=$((i+1)); echo tick$i; sleep 0.2; done'
`);
    s.start();
    await logged(s, "ticker", "tick2");
    const f = follower(s, ["-f", "ticker", "-n", "1"]);
    try {
      await waitUntil(() => /tick\d+\n/.test(f.out()), () => `a first line; got ${f.out()}`);
      const first = Number(/ticker \| tick(\d+)\n/.exec(f.out())?.[1]);
      await waitUntil(() => f.out().includes(`ticker | tick${first + 2}\n`), () => `tick${first + 2}; got ${f.out()}`);
      const seen = [...f.out().matchAll(/ticker \| tick(\d+)\n/g)].map((m) => Number(m[1]));
      expect(seen.slice(0, 3)).toEqual([first, first + 1, first + 2]);
      f.child.kill("SIGINT");
      expect(await f.exited).toBe(0);
    } finally {
      if (f.child.exitCode === null) f.child.kill("SIGKILL");
    }
  });

  it("follows across rotations without losing or repeating a line", async () => {
    const s = await stack(`
version: 1
services:
  chatty:
    command: sh -c 'i=0; while true; do i=$((i+1)); echo line$i; sleep 0.01; done'
    logs: { max_size: 2KB, keep: 1 }
`);
    s.start();
    // not a given line: it may be rotated away before it is looked for
    await waitUntil(async () => (await stat(join(s.stateDir, "logs", "chatty.log")).catch(() => null)) !== null, "chatty.log");
    const f = follower(s, ["--follow", "-n", "0"]);
    try {
      await waitUntil(() => /line\d+\n/.test(f.out()), () => `a first line; got ${f.out()}`);
      // two rotations while it follows: NAME.log.1 is a new file each time
      const rotated = join(s.stateDir, "logs", "chatty.log.1");
      const inode = async (): Promise<number> => (await stat(rotated).catch(() => null))?.ino ?? 0;
      const before = await inode();
      await waitUntil(async () => (await inode()) !== before, "a rotation");
      const between = await inode();
      await waitUntil(async () => (await inode()) !== between, "another rotation");
      await waitUntil(() => f.out().split("\n").length > 150, () => `lines; got ${f.out()}`);
      f.child.kill("SIGINT");
      expect(await f.exited).toBe(0);
      const seen = [...f.out().matchAll(/^chatty \| line(\d+)$/gm)].map((m) => Number(m[1]));
      expect(f.out().trimEnd().split("\n")).toHaveLength(seen.length);
      expect(seen).toEqual(seen.map((_, i) => (seen[0] ?? 0) + i));
    } finally {
      if (f.child.exitCode === null) f.child.kill("SIGKILL");
    }
  });

  it("says in one line that it cannot read a state directory the user may not read", async () => {
    const s = await stack(TWO_PRINTERS);
    await mkdir(join(s.stateDir, "logs"), { recursive: true, mode: 0o700 });
    await writeFile(join(s.stateDir, "logs", "alpha.log"), "2026-11-22T10:00:00.000Z out a1\n");
    await chmod(s.dir, 0o755);
    await chmod(s.stateDir, 0o700);
    for (const args of [["logs"], ["logs", "alpha"], ["logs", "-f", "alpha"]]) {
      const res = await asOtherUser(s, args);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^vigil: cannot read the logs in \/\S+\/\.vigil\/logs: permission denied \(EACCES\)\n$/);
    }
  });
});

/**
 * Runs the CLI without access to the state directory: the directory closed (mode 000), and when the tests
 * run as root, which reads everything, root without the capabilities that let it (setpriv). Another
 * user would do too, but may not be able to reach the checkout the CLI runs from.
 */
async function asOtherUser(s: Stack, args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const root = process.getuid?.() === 0;
  await chmod(s.stateDir, 0o000);
  try {
    const argv = [process.execPath, CLI, ...args];
    const command = root ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", "--", ...argv] : argv;
    const child = spawn(command[0]!, command.slice(1), {
      cwd: s.dir,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    return { code, stderr };
  } finally {
    await chmod(s.stateDir, 0o700);
  }
}
