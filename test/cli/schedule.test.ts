import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRunning, useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

async function lines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, "utf8")).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

describe("schedule: scheduled jobs", () => {
  it("runs the job at every tick of a seconds schedule, not with the stack, and shows the next run", async () => {
    const s = await stack(`
version: 1
services:
  tick:
    command: ["sh", "-c", "date +%s%3N >> runs.txt"]
    restart: { policy: always }
    schedule: { cron: "*/2 * * * * *" }
`);
    s.start();
    const armed = await s.waitFor("tick", (x) => x.schedule?.next_run_at != null, "to be armed");
    expect(armed.schedule).toMatchObject({ cron: "*/2 * * * * *" });
    // not with the stack: no run before the first tick (a status read after a tick names the next
    // one and counts the run, so the first tick is as many periods before as there were runs)
    const firstTickMs = Date.parse(armed.schedule!.next_run_at!) - 2_000 * armed.schedule!.runs;
    await waitUntil(async () => (await lines(join(s.dir, "runs.txt"))).length >= 2, "two runs");
    const startsMs = (await lines(join(s.dir, "runs.txt"))).map(Number);
    expect(startsMs[0]).toBeGreaterThanOrEqual(firstTickMs);
    const after = await s.waitFor("tick", (x) => x.state === "exited" && (x.schedule?.runs ?? 0) >= 2, "to have run twice");
    expect(after.restarts).toBe(0);
    expect(after.schedule?.last_run).toMatchObject({ code: 0, signal: null });
    expect(Date.parse(after.schedule?.next_run_at ?? "")).toBeGreaterThan(Date.parse(after.schedule?.last_run?.ended_at ?? "") - 2_000);
    let table = "";
    await waitUntil(async () => {
      table = (await s.run(["status"])).stdout;
      return /tick\s+scheduled, next run in \d/.test(table);
    }, () => `the table to show the next run:\n${table}`);
  }, 45_000);

  it("skips a tick while a run that sleeps longer than the period still goes: one run at a time", async () => {
    const s = await stack(`
version: 1
services:
  slow:
    command: ["sh", "-c", "if [ -e lock ]; then echo $$ >> overlaps.txt; fi; touch lock; echo $$ >> runs.txt; sleep 3; rm lock"]
    schedule: { cron: "*/2 * * * * *", overlap: skip }
`);
    s.start();
    const skipped = await s.waitFor("slow", (x) => (x.schedule?.skipped ?? 0) >= 1 && (x.schedule?.runs ?? 0) >= 2, "to skip a tick and run again");
    expect(skipped.restarts).toBe(0);
    // the run has started once the status says so; its shell writes its pid a moment later
    await waitUntil(async () => (await lines(join(s.dir, "runs.txt"))).length >= 2, "the second run to write its pid");
    const pids = (await lines(join(s.dir, "runs.txt"))).map(Number);
    expect(pids.filter(isRunning).length).toBeLessThanOrEqual(1);
    expect(await lines(join(s.dir, "overlaps.txt"))).toEqual([]);
    const journal = (await readFile(join(s.stateDir, "events.jsonl"), "utf8")).split("\n").filter((l) => l.includes('"schedule-skipped"'));
    expect(journal.length).toBeGreaterThanOrEqual(1);
  }, 15_000);
});
