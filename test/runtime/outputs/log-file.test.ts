import { pbkdf2 } from "node:crypto";
import { readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, stat, symlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Gate } from "../../../src/runtime/state/gate.js";
import { RotatingLog } from "../../../src/runtime/outputs/log-file.js";
import type { WriteReport } from "../../../src/runtime/state/problems.js";
import { waitUntil } from "../../support/stack.js";

let stateDir: string;
let logPath: string;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "vigil-logs-"));
  logPath = join(stateDir, "logs", "api.log");
});

afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

const read = (path: string) => readFile(path, "utf8");

describe("RotatingLog", () => {
  it("writes the lines of the turns within its write interval together, in order, and all of them at close", async () => {
    let writes = 0;
    const report: WriteReport = { failed: () => undefined, succeeded: () => writes++ };
    const log = new RotatingLog(logPath, { maxBytes: 1024 * 1024, keep: 1, report, writeIntervalMs: 60_000 });
    log.write("first");
    await log.flush();
    expect(writes).toBe(1);
    // a line a turn, as a service restarting back to back gives the journal
    for (const line of ["second", "third", "fourth"]) {
      log.write(line);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await log.close();
    expect(await read(logPath)).toBe("first\nsecond\nthird\nfourth\n");
    expect(writes).toBe(2);
  });

  it("writes by itself once the interval has passed", async () => {
    const log = new RotatingLog(logPath, { maxBytes: 1024 * 1024, keep: 1, writeIntervalMs: 5 });
    log.write("first");
    await log.flush();
    log.write("second");
    await waitUntil(async () => (await read(logPath)) === "first\nsecond\n", "the second line in the file");
    await log.close();
  });

  it("creates the logs dir and a 0600 file, and close flushes every line", async () => {
    const log = new RotatingLog(logPath, { maxBytes: 1024 * 1024, keep: 3 });
    log.write("first");
    log.write("second ✓");
    await log.close();
    expect(await read(logPath)).toBe("first\nsecond ✓\n");
    expect((await stat(logPath)).mode & 0o777).toBe(0o600);
    log.write("after close");
    await log.flush();
    expect(await read(logPath)).toBe("first\nsecond ✓\n");
  });

  it("appends to an existing file and counts its size towards rotation", async () => {
    await mkdir(join(stateDir, "logs"));
    await writeFile(logPath, "0123456789abcdefghi\n"); // 20 bytes
    const log = new RotatingLog(logPath, { maxBytes: 30, keep: 2 });
    log.write("123456789"); // 20 + 10 = 30: still fits
    log.write("next");
    await log.close();
    expect(await read(`${logPath}.1`)).toBe("0123456789abcdefghi\n123456789\n");
    expect(await read(logPath)).toBe("next\n");
  });

  it("coalesces the lines of one tick into one write", async () => {
    const log = new RotatingLog(logPath, { maxBytes: 1024 * 1024, keep: 1 });
    for (let i = 0; i < 1000; i++) log.write(`line ${i}`);
    await log.flush();
    const lines = (await read(logPath)).trimEnd().split("\n");
    expect(lines).toHaveLength(1000);
    expect(lines[999]).toBe("line 999");
    await log.close();
  });

  it("rotates NAME.log to NAME.log.1 … NAME.log.KEEP, dropping the oldest and keeping the newest", async () => {
    const log = new RotatingLog(logPath, { maxBytes: 100, keep: 2 });
    const written: string[] = [];
    for (let i = 0; i < 60; i++) {
      const line = `line ${String(i).padStart(3, "0")}`; // 9 bytes with the newline
      written.push(line);
      log.write(line);
      if (i % 7 === 0) await log.flush();
    }
    await log.close();
    expect((await readdir(join(stateDir, "logs"))).sort()).toEqual(["api.log", "api.log.1", "api.log.2"]);
    const files = [`${logPath}.2`, `${logPath}.1`, logPath];
    const contents = await Promise.all(files.map(read));
    for (const path of files) expect((await stat(path)).size).toBeLessThanOrEqual(100);
    const kept = contents.join("").trimEnd().split("\n");
    // the kept files hold the newest lines, in order, without gaps
    expect(kept).toEqual(written.slice(written.length - kept.length));
    expect(kept.length).toBeGreaterThan(11 * 2);
    expect(contents[2]!.trimEnd().split("\n").at(-1)).toBe("line 059");
  });

  it("with keep 0 starts the file afresh instead of keeping old ones", async () => {
    const log = new RotatingLog(logPath, { maxBytes: 10, keep: 0 });
    log.write("aaaa");
    log.write("bbbb");
    log.write("cccc");
    await log.close();
    expect(await readdir(join(stateDir, "logs"))).toEqual(["api.log"]);
    expect(await read(logPath)).toBe("cccc\n");
  });

  it("puts a line longer than maxBytes in a file of its own", async () => {
    const log = new RotatingLog(logPath, { maxBytes: 10, keep: 3 });
    log.write("ab");
    log.write("x".repeat(30));
    log.write("cd");
    await log.close();
    expect(await read(`${logPath}.2`)).toBe("ab\n");
    expect(await read(`${logPath}.1`)).toBe(`${"x".repeat(30)}\n`);
    expect(await read(logPath)).toBe("cd\n");
  });

  it("drops lines beyond maxQueuedBytes and says how many", async () => {
    const log = new RotatingLog(logPath, { maxBytes: 1024 * 1024, keep: 1, maxQueuedBytes: 20 });
    for (let i = 0; i < 10; i++) log.write("123456789");
    await log.close();
    expect(await read(logPath)).toBe("123456789\n123456789\n[vigil: 8 lines dropped, the log could not keep up]\n");
  });

  it("does not write through a symbolic link planted where its file should be, and reports it", async () => {
    const target = join(stateDir, "root-only.txt");
    await writeFile(target, "untouched\n", { mode: 0o600 });
    await mkdir(join(stateDir, "logs"), { mode: 0o700 });
    await symlink(target, logPath);
    const { report, outcomes } = recorder();
    const log = new RotatingLog(logPath, { maxBytes: 1024, keep: 1, report });
    log.write("secret?");
    await expect(log.flush()).rejects.toThrow(/api\.log is a symbolic link/);
    expect(outcomes).toEqual(["failed StateDirError"]);
    expect(await read(target)).toBe("untouched\n");
  });

  it("counts the lines it could not write, and says so in the file once it can write again", async () => {
    // a directory where the file should be: every write fails
    await mkdir(logPath, { recursive: true });
    const { report, outcomes } = recorder();
    const log = new RotatingLog(logPath, { maxBytes: 1024, keep: 1, report });
    log.write("one");
    log.write("two");
    await expect(log.flush()).rejects.toMatchObject({ code: "EISDIR" });
    log.write("three");
    await expect(log.flush()).rejects.toMatchObject({ code: "EISDIR" });
    await rm(logPath, { recursive: true });
    log.write("four");
    await log.close();
    expect(await read(logPath)).toBe("[vigil: 3 lines lost, the log could not be written]\nfour\n");
    expect(outcomes).toEqual(["failed EISDIR", "failed EISDIR", "ok"]);
  });

  it("keeps no descriptor between writes while descriptors are scarce", async () => {
    let hold = true;
    const log = new RotatingLog(logPath, { maxBytes: 1024, keep: 1, fds: { holdFiles: () => hold, gate: new Gate(1) } });
    log.write("held");
    await log.flush();
    expect(descriptorsOf(logPath)).toBe(1);
    hold = false;
    log.write("let go");
    await log.flush();
    expect(descriptorsOf(logPath)).toBe(0);
    log.write("again");
    await log.close();
    expect(await read(logPath)).toBe("held\nlet go\nagain\n");
  });
  it("writes on the loop, not behind a busy thread pool; after a slow write, through the pool", async () => {
    // every thread of the pool busy for a while (it is 4 threads unless UV_THREADPOOL_SIZE says otherwise)
    const busyPool = (): Promise<void>[] =>
      Array.from({ length: 2 * Number(process.env["UV_THREADPOOL_SIZE"] ?? 4) }, () => new Promise<void>((resolve) => pbkdf2("a", "b", 600_000, 32, "sha256", () => resolve())));
    const firstOf = (flush: Promise<void>, pool: Promise<void>[]) => Promise.race([flush.then(() => "flush"), ...pool.map((p) => p.then(() => "pool"))]);

    const quick = new RotatingLog(logPath, { maxBytes: 1024 * 1024, keep: 1 });
    quick.write("opened"); // opening the file is the pool's work: done before the pool is busy
    await quick.flush();
    let pool = busyPool();
    quick.write("while the pool is busy");
    expect(await firstOf(quick.flush(), pool)).toBe("flush");
    expect(quick.writesThroughPool).toBe(false);
    await Promise.all(pool);
    await quick.close();
    expect(await read(logPath)).toBe("opened\nwhile the pool is busy\n");

    // every write counts as slow here
    const slow = new RotatingLog(logPath, { maxBytes: 1024 * 1024, keep: 1, slowWriteMs: -1 });
    slow.write("slow");
    await slow.flush();
    expect(slow.writesThroughPool).toBe(true);
    pool = busyPool();
    slow.write("behind the pool");
    expect(await firstOf(slow.flush(), pool)).toBe("pool");
    await Promise.all(pool);
    await slow.close();
    expect(await read(logPath)).toBe("opened\nwhile the pool is busy\nslow\nbehind the pool\n");
  });
});

function recorder(): { report: WriteReport; outcomes: string[] } {
  const outcomes: string[] = [];
  return {
    outcomes,
    report: {
      failed: (err) => outcomes.push(`failed ${(err as NodeJS.ErrnoException).code ?? (err as Error).name}`),
      succeeded: () => outcomes.push("ok"),
    },
  };
}

/** how many of this process's descriptors are open on path */
function descriptorsOf(path: string): number {
  return readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}
