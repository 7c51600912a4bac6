import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WriteReport } from "../../../src/runtime/state/problems.js";
import { AtomicJsonWriter } from "../../../src/runtime/outputs/status-writer.js";
import { waitFor } from "../../support/processes.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-status-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("AtomicJsonWriter", () => {
  it("writes what render gives once marked dirty, the last of a burst", async () => {
    let n = 0;
    const writer = new AtomicJsonWriter(join(dir, "status.json"), () => `{"n":${++n}}`);
    for (let i = 0; i < 5; i++) writer.markDirty();
    await writer.settle();
    expect(await readFile(join(dir, "status.json"), "utf8")).toBe('{"n":1}\n');
    expect(await readdir(dir)).toEqual(["status.json"]);
  });

  it("does not write again a text that is already on disk", async () => {
    let text = '{"n":1}';
    const writes: string[] = [];
    const report: WriteReport = { failed: (err) => { throw err; }, succeeded: () => writes.push(text) };
    const writer = new AtomicJsonWriter(join(dir, "status.json"), () => text, 0, report);
    writer.markDirty();
    await writer.settle();
    const { mtimeMs } = await stat(join(dir, "status.json"));
    writer.markDirty();
    await writer.settle();
    expect(writes).toEqual(['{"n":1}']);
    expect((await stat(join(dir, "status.json"))).mtimeMs).toBe(mtimeMs);
    text = '{"n":2}';
    writer.markDirty();
    await writer.settle();
    expect(writes).toEqual(['{"n":1}', '{"n":2}']);
    expect(await readFile(join(dir, "status.json"), "utf8")).toBe('{"n":2}\n');
  });

  it("reports a write that fails, leaves no temp file, and tries again by itself until it works", async () => {
    const outcomes: string[] = [];
    const report: WriteReport = { failed: (err) => outcomes.push(`failed ${(err as NodeJS.ErrnoException).code}`), succeeded: () => outcomes.push("ok") };
    // a directory where the file should be: the rename over it fails
    await mkdir(join(dir, "status.json"));
    const writer = new AtomicJsonWriter(join(dir, "status.json"), () => "{}", 0, report);
    writer.markDirty();
    await waitFor(() => outcomes.length > 0);
    expect(outcomes).toEqual(["failed EISDIR"]);
    expect(await readdir(dir)).toEqual(["status.json"]);
    await rm(join(dir, "status.json"), { recursive: true });
    // no change marked since: the retry alone writes it
    await waitFor(() => outcomes.at(-1) === "ok", 5000);
    expect(await readFile(join(dir, "status.json"), "utf8")).toBe("{}\n");
    await writer.settle();
  });
});
