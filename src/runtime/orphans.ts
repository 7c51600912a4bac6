// Crash safety: every running child is recorded in STATE_DIR/children.json, so a supervisor that
// was SIGKILLed can end what it left behind when it starts again.
import { randomBytes } from "node:crypto";
import { readFile, readdir, rename, unlink, writeFile } from "node:fs/promises";
import { constants } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { terminateGroup } from "./kill.js";
import { isLiveState, readProcStat, scanProcesses } from "./proc.js";

export const CHILDREN_FILE = "children.json";
/** successive rewrites of children.json start at least this far apart */
const REWRITE_INTERVAL_MS = 20;

export interface ChildEntry {
  readonly service: string;
  readonly pid: number;
  readonly pgid: number;
  /** /proc start time of pid: tells our child from a process that reused its pid */
  readonly startTime: number;
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutMs: number;
}

/** exited/killed: ended by us; gone: nothing left; pid-reused: another process, left alone */
export type ReapOutcome = "exited" | "killed" | "gone" | "pid-reused";

export interface ReapResult {
  readonly pid: number;
  readonly service: string;
  readonly outcome: ReapOutcome;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

export class ChildRegistry {
  private readonly path: string;
  /** each entry with its JSON text, made once: a rewrite of 1,000 entries then costs a join */
  private readonly children = new Map<number, { readonly entry: ChildEntry; readonly json: string }>();
  private version = 0;
  private writtenVersion = 0;
  private writing: Promise<void> | null = null;
  private lastWriteAtMs = -Infinity;

  /** onError receives failures of the flushes that add/remove start by themselves */
  constructor(
    stateDir: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.path = join(stateDir, CHILDREN_FILE);
  }

  entries(): ChildEntry[] {
    return [...this.children.values()].map((c) => c.entry);
  }

  add(entry: ChildEntry): void {
    this.children.set(entry.pid, { entry, json: JSON.stringify(entry) });
    this.changed();
  }

  remove(pid: number): void {
    if (this.children.delete(pid)) this.changed();
  }

  /** Resolves once the file holds the entries as they are now; one write in flight at most. */
  flush(): Promise<void> {
    if (this.writtenVersion === this.version && !this.writing) return Promise.resolve();
    this.writing ??= this.drain().finally(() => {
      this.writing = null;
    });
    return this.writing;
  }

  /** Forgets every entry and removes the file (after a clean shutdown). */
  async clear(): Promise<void> {
    this.children.clear();
    this.version++;
    await this.writing?.catch(() => undefined);
    if (this.children.size > 0) return this.flush();
    this.writtenVersion = this.version;
    await unlink(this.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }

  private changed(): void {
    this.version++;
    this.flush().catch(this.onError);
  }

  private async drain(): Promise<void> {
    // changes made while a write is in flight are picked up by the next turn of this loop
    while (this.writtenVersion < this.version) {
      // a service restarting back to back (or a start of 1,000) changes the entries hundreds of
      // times a second: each rewrite of the whole file waits a moment after the one before
      const waitMs = this.lastWriteAtMs + REWRITE_INTERVAL_MS - performance.now();
      if (waitMs > 0) await sleep(waitMs);
      this.lastWriteAtMs = performance.now();
      const version = this.version;
      const lines = [...this.children.values()].map((c) => c.json);
      await writeAtomic(this.path, lines.length === 0 ? '{ "children": [] }\n' : `{ "children": [\n  ${lines.join(",\n  ")}\n] }\n`);
      this.writtenVersion = version;
    }
  }
}

function parseEntries(text: string): ChildEntry[] {
  const value = JSON.parse(text) as { children?: unknown } | unknown[];
  const list: unknown = Array.isArray(value) ? value : value?.children;
  if (!Array.isArray(list)) return [];
  const entries: ChildEntry[] = [];
  for (const e of list as Partial<Record<keyof ChildEntry, unknown>>[]) {
    const { pid, pgid, startTime, stopSignal, stopTimeoutMs } = e ?? {};
    if (!Number.isInteger(pid) || !Number.isInteger(pgid) || !Number.isSafeInteger(startTime)) continue;
    if ((pid as number) <= 1 || (pgid as number) <= 1) continue;
    entries.push({
      service: String(e.service),
      pid: pid as number,
      pgid: pgid as number,
      startTime: startTime as number,
      // a bad signal name would make process.kill throw and block the start-up
      stopSignal: typeof stopSignal === "string" && stopSignal in constants.signals ? (stopSignal as NodeJS.Signals) : "SIGTERM",
      stopTimeoutMs: typeof stopTimeoutMs === "number" && stopTimeoutMs >= 0 ? stopTimeoutMs : 10_000,
    });
  }
  return entries;
}

async function reapOne(entry: ChildEntry, log: (message: string) => void): Promise<ReapResult> {
  const { pid, pgid, service, startTime } = entry;
  const result = (outcome: ReapOutcome): ReapResult => ({ pid, service, outcome });
  const leader = readProcStat(pid);
  const leaderLive = leader !== null && isLiveState(leader.state);
  if (pid === process.pid || (leaderLive && leader.startTime !== startTime)) {
    // an unrelated process has the pid; and since Linux reuses no pid while a group of that id
    // exists, nothing is left of the group our detached child led either
    return result("pid-reused");
  }
  // members left in the group after the leader died; started after it, so not a reused group id
  const stragglers = scanProcesses().filter((s) => s.pgid === pgid && isLiveState(s.state) && s.startTime >= startTime);
  if (!leaderLive && stragglers.length === 0) return result("gone");
  if (pgid === readProcStat(process.pid)?.pgid) return result("pid-reused");
  log(`ending ${service} (pid ${pid}) left behind by an earlier vigil`);
  const outcome = await terminateGroup({
    pid: leaderLive ? pid : stragglers[0]!.pid,
    pgid,
    signal: entry.stopSignal,
    timeoutMs: entry.stopTimeoutMs,
    startTime: leaderLive ? startTime : stragglers[0]!.startTime,
  });
  return result(outcome);
}

/** At start-up: ends the children a killed supervisor left behind, then removes the record. */
export async function reapOrphans(
  stateDir: string,
  log: (message: string) => void = () => undefined,
): Promise<ReapResult[]> {
  const path = join(stateDir, CHILDREN_FILE);
  let entries: ChildEntry[] = [];
  try {
    entries = parseEntries(await readFile(path, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    if (code !== undefined) throw err;
    log(`ignoring unreadable ${path}: ${(err as Error).message}`);
  }
  const results = await Promise.all(entries.map((entry) => reapOne(entry, log)));
  await unlink(path).catch(() => undefined);
  // temp files of a write that was cut short
  for (const name of await readdir(stateDir).catch(() => [] as string[])) {
    if (name.startsWith(`${CHILDREN_FILE}.`) && name.endsWith(".tmp")) await unlink(join(stateDir, name)).catch(() => undefined);
  }
  return results;
}
