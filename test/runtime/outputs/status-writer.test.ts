import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WriteReport } from "../../../src/runtime/state/problems.js";
import { AtomicJsonWriter, DRIFT_BYTES_PER_S, driftDelayMs, WATCHED_DRIFT_DELAY_MS } from "../../../src/runtime/outputs/status-writer.js";
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

describe("how soon drifting figures (beats, samples) are written", () => {
  it("within a second for a small file; for a large one within the 2 s a dashboard's stream passes it on, while someone watches", () => {
    expect(driftDelayMs(0, false)).toBe(1_000);
    expect(driftDelayMs(20_000, false)).toBe(1_000);
    expect(driftDelayMs(20_000, true)).toBe(1_000);
    expect(driftDelayMs(500_000, true)).toBe(WATCHED_DRIFT_DELAY_MS);
    expect(WATCHED_DRIFT_DELAY_MS).toBe(2_000);
  });

  it("at no more than DRIFT_BYTES_PER_S of rewrites for a large one nobody watches", () => {
    expect(driftDelayMs(2 * DRIFT_BYTES_PER_S, false)).toBe(2_000);
    // status.json of 1,000 services: about 500 KB, rewritten every 8 s
    const delay = driftDelayMs(515_000, false);
    expect(delay).toBeGreaterThanOrEqual(7_800);
    expect(515_000 / (delay / 1000)).toBeLessThanOrEqual(DRIFT_BYTES_PER_S);
  });

  it("knows the size it last wrote", async () => {
    const writer = new AtomicJsonWriter(join(dir, "status.json"), () => "x".repeat(99));
    expect(writer.writtenBytes).toBe(0);
    writer.markDirty();
    await writer.settle();
    expect(writer.writtenBytes).toBe(100);
  });
});
