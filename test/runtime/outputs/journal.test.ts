import { appendFile, mkdtemp, readFile, rm, stat, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { VigilEvent } from "../../../src/runtime/outputs/event.js";
import { Journal, JournalFollower, journalPath, parseJournalLine, readJournal } from "../../../src/runtime/outputs/journal.js";
import { silentLogger } from "../../../src/runtime/outputs/logger.js";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-journal-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function event(n: number, service: string | null = "api", at = `2026-11-22T10:00:${String(n % 60).padStart(2, "0")}.000Z`): VigilEvent {
  return { at, service, kind: "restart-scheduled", level: "info", message: `restart ${n}`, fields: { attempt: n } };
}

describe("Journal", () => {
  it("appends every event as one JSON line, in a file only its owner can read", async () => {
    const journal = new Journal(journalPath(dir), silentLogger);
    journal.publish(event(1));
    journal.publish(event(2, null));
    await journal.close();
    const lines = (await readFile(journalPath(dir), "utf8")).split("\n");
    expect(lines.slice(0, 2).map((l) => JSON.parse(l) as unknown)).toEqual([event(1), event(2, null)]);
    expect(lines[2]).toBe("");
    expect((await stat(journalPath(dir))).mode & 0o777).toBe(0o600);
  });

  it("keeps an event whose figures JSON cannot hold, without them", async () => {
    const journal = new Journal(journalPath(dir), silentLogger);
    journal.publish({ ...event(1), fields: { big: 1n } });
    await journal.close();
    expect((await readJournal(dir)).events).toEqual([{ ...event(1), fields: {} }]);
  });

  it("rotates by size into events.jsonl.1 … .3 and reads back across them", async () => {
    const journal = new Journal(journalPath(dir), silentLogger, { maxBytes: 1000, keep: 3 });
    for (let n = 1; n <= 60; n++) journal.publish(event(n));
    await journal.close();
    await expect(stat(`${journalPath(dir)}.3`)).resolves.toBeTruthy();
    await expect(stat(`${journalPath(dir)}.4`)).rejects.toThrow();
    const current = (await readJournal(dir)).events;
    expect(current.length).toBeLessThan(60);
    expect(current.at(-1)?.message).toBe("restart 60");
    const last15 = (await readJournal(dir, { last: 15 })).events;
    expect(last15.map((e) => e.fields["attempt"])).toEqual(Array.from({ length: 15 }, (_, i) => 46 + i));
    // what is older than the third rotated file is gone
    const kept = (await readJournal(dir, { last: 1000 })).events.map((e) => Number(e.fields["attempt"]));
    expect(kept[0]).toBeGreaterThan(1);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => (kept[0] ?? 0) + i));
  });
});

describe("readJournal", () => {
  it("skips a torn last line and anything that is not an event", async () => {
    await appendFile(journalPath(dir), `${JSON.stringify(event(1))}\nnot json\n{"kind":"x"}\n${JSON.stringify(event(2))}\n{"at":"2026-11-22T10:0`);
    const read = await readJournal(dir);
    expect(read.events.map((e) => e.message)).toEqual(["restart 1", "restart 2"]);
    expect(read.end).toBe((await readFile(journalPath(dir))).lastIndexOf("\n") + 1);
  });

  it("filters by service and by time, reading rotated files back as far as the time asks", async () => {
    await appendFile(`${journalPath(dir)}.2`, `${JSON.stringify(event(1, "api", "2026-11-22T08:00:00.000Z"))}\n`);
    await appendFile(`${journalPath(dir)}.1`, `${JSON.stringify(event(2, "web", "2026-11-22T09:30:00.000Z"))}\n`);
    await appendFile(journalPath(dir), `${JSON.stringify(event(3, "api", "2026-11-22T09:45:00.000Z"))}\n`);
    const old = new Date("2026-11-22T08:00:00.000Z");
    await utimes(`${journalPath(dir)}.2`, old, old);
    expect((await readJournal(dir)).events.map((e) => e.message)).toEqual(["restart 3"]);
    const since = Date.parse("2026-11-22T09:00:00.000Z");
    expect((await readJournal(dir, { sinceMs: since })).events.map((e) => e.message)).toEqual(["restart 2", "restart 3"]);
    expect((await readJournal(dir, { sinceMs: since, service: "api" })).events.map((e) => e.message)).toEqual(["restart 3"]);
    expect((await readJournal(dir, { sinceMs: 0 })).events.map((e) => e.message)).toEqual(["restart 1", "restart 2", "restart 3"]);
  });

  it("reads nothing, without failing, where there is no journal", async () => {
    expect(await readJournal(join(dir, "missing"))).toEqual({ events: [], end: 0 });
  });
});

describe("parseJournalLine", () => {
  it("takes an event with defaults for what is missing, and nothing else", () => {
    expect(parseJournalLine('{"at":"2026-11-22T10:00:00Z","kind":"up"}')).toEqual({
      at: "2026-11-22T10:00:00Z",
      service: null,
      kind: "up",
      level: "info",
      message: "",
      fields: {},
    });
    expect(parseJournalLine('{"at":"yesterday","kind":"up"}')).toBeNull();
    expect(parseJournalLine("[1,2]")).toBeNull();
    expect(parseJournalLine("")).toBeNull();
  });
});

describe("JournalFollower", () => {
  it("reads what is appended, only complete lines, and follows a rotation", async () => {
    const lineBytes = JSON.stringify(event(4)).length + 1;
    // three lines, and a partial one, fit; the fourth event rotates
    const journal = new Journal(journalPath(dir), silentLogger, { maxBytes: 4 * lineBytes, keep: 3 });
    journal.publish(event(1));
    await journal.flush();
    const { end } = await readJournal(dir);
    const follower = new JournalFollower(journalPath(dir), end);
    expect(await follower.read()).toEqual([]);
    journal.publish(event(2));
    await journal.flush();
    await appendFile(journalPath(dir), '{"at":"2026-11-22T10:00:03.000Z","kind":"par');
    expect((await follower.read()).map((e) => e.message)).toEqual(["restart 2"]);
    await appendFile(journalPath(dir), 'tial"}\n');
    expect((await follower.read()).map((e) => e.kind)).toEqual(["partial"]);
    for (let n = 4; n <= 6; n++) journal.publish(event(n));
    await journal.close();
    await expect(stat(`${journalPath(dir)}.1`)).resolves.toBeTruthy();
    await expect(stat(`${journalPath(dir)}.2`)).rejects.toThrow();
    expect((await follower.read()).map((e) => e.message)).toEqual(["restart 4", "restart 5", "restart 6"]);
    await follower.close();
  });
});
