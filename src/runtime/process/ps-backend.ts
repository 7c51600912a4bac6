// The portable backend of the process table: `ps`, where there is no /proc (macOS, the BSDs), and on
// Linux with VIGIL_PROCESS_BACKEND=portable. One `ps -A` gives every process (ps-parse.ts); what is read
// of one process within a turn of the event loop comes from the last such list of that turn, so a
// shutdown of many jobs runs ps a few times, not once per process. Command lines are read on their own
// (a warning's, the lock's): the lists leave them out, since they cost procps one more file a process.
// Start times are ps's lstart, whole seconds: a pid reused within the same second by another process
// would pass for the old one, so the lock compares the command too, and children.json the VIGIL_TOKEN.
// ps shows a process's environment where its platform has the option for it (psEnvironmentFlag): the
// token scan works there; elsewhere a job is its process group and tree alone.
import { execFile, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { parseEnvironLines, parsePsOutput, psEnvironmentFlag, psFields, PS_ENV, type PsRow } from "./ps-parse.js";
import type { ProcStat } from "./proc.js";
import { takeSnapshot, type ProcSnapshot } from "./proc-snapshot.js";
import type { ProcUsage } from "../resources/proc-table.js";
import type { ProcessTable, UsageReader } from "./table.js";

/** a ps listing of thousands of processes with long command lines */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
const COMMAND_CHARS = 200;

export class PsTable implements ProcessTable {
  readonly backend = "portable";
  readonly startClock = "seconds";
  readonly readsEnvironment: boolean;
  readonly #platform: string;
  readonly #fields: string;
  readonly #withSession: boolean;
  readonly #envFlag: string | null;
  readonly #env: NodeJS.ProcessEnv;
  /** ps's path, found once: a spawn does not search PATH again */
  readonly #ps: string;
  /** the last full list of this turn, by pid */
  #turn: Map<number, PsRow> | null = null;

  constructor(platform: string = process.platform) {
    this.#platform = platform;
    this.#fields = psFields(platform);
    this.#withSession = platform === "linux";
    this.#envFlag = psEnvironmentFlag(platform);
    this.readsEnvironment = this.#envFlag !== null;
    // without a token of its own, ps never shows up as a process of the job it looks for
    const { VIGIL_TOKEN: _token, ...env } = process.env;
    this.#env = { ...env, ...PS_ENV };
    this.#ps = findPs(env["PATH"]);
  }

  list(fresh = true): ProcStat[] {
    return [...(fresh ? this.#listed() : this.#current()).values()];
  }

  /** From this turn's list: on Linux `ps -p` reads all of /proc anyway, and a batch of reads runs ps once. */
  read(pid: number): ProcStat | null {
    if (!Number.isInteger(pid) || pid <= 0) return null;
    return this.#current().get(pid) ?? null;
  }

  pids(): number[] {
    return [...this.#current().keys()];
  }

  tree(): ProcSnapshot | null {
    return null;
  }

  only(pids: Iterable<number>): ProcSnapshot {
    const listed = this.#current();
    return takeSnapshot([...new Set(pids)].flatMap((pid) => listed.get(pid) ?? []));
  }

  /**
   * One ps with the environments. For every process ("all") the same ps lists the fields too, and
   * becomes this turn's list: a token search and the look at the jobs after it run ps once.
   */
  envOf(pids: readonly number[] | "all", name: string): Map<number, string> {
    if (this.#envFlag === null || (pids !== "all" && pids.length === 0)) return new Map();
    if (pids !== "all") return parseEnvironLines(this.#spawn([this.#envFlag, "-ww", "-o", "pid=,command=", "-p", pids.join(",")]), name);
    const out = this.#spawn([this.#envFlag, "-A", "-ww", "-o", psFields(this.#platform, true)]);
    const byPid = new Map<number, PsRow>();
    for (const row of parsePsOutput(out, this.#withSession)) byPid.set(row.pid, row);
    this.#keep(byPid);
    // the fixed fields come first on each line, then the command and the environment
    return parseEnvironLines(out.replace(/^\s*(\d+)\s.*?\d\d:\d\d:\d\d \d{4}\s+\d+\s+\S+/gm, "$1"), name);
  }

  commandLine(pid: number): string {
    return this.commandLines([pid]).get(pid) ?? "?";
  }

  commandLines(pids: readonly number[]): Map<number, string> {
    const found = new Map<number, string>();
    const valid = pids.filter((pid) => Number.isInteger(pid) && pid > 0);
    const rows = valid.length === 0 ? [] : parsePsOutput(this.#spawn(["-ww", "-o", psFields(this.#platform, true), "-p", valid.join(",")]), this.#withSession);
    const byPid = new Map(rows.map((r) => [r.pid, r.command]));
    for (const pid of pids) {
      const text = byPid.get(pid) || "?";
      found.set(pid, text.length > COMMAND_CHARS ? `${text.slice(0, COMMAND_CHARS)}…` : text);
    }
    return found;
  }

  usageReader(): UsageReader {
    return new PsUsageReader(this.#ps, this.#fields, this.#withSession, this.#env);
  }

  /** This turn's list, taken now if there is none yet. */
  #current(): Map<number, PsRow> {
    return this.#turn ?? this.#listed();
  }

  /** A fresh list, kept as this turn's. */
  #listed(): Map<number, PsRow> {
    const byPid = new Map<number, PsRow>();
    for (const row of this.#run(["-A", "-ww", "-o", this.#fields])) byPid.set(row.pid, row);
    return this.#keep(byPid);
  }

  #keep(byPid: Map<number, PsRow>): Map<number, PsRow> {
    if (this.#turn === null) setImmediate(() => (this.#turn = null));
    this.#turn = byPid;
    return byPid;
  }

  #run(args: readonly string[]): PsRow[] {
    return parsePsOutput(this.#spawn(args), this.#withSession);
  }

  /**
   * ps's output; "" when it cannot run (out of descriptors or processes), which the callers take as
   * /proc's backend takes an unreadable /proc: nothing is seen, nothing is proven.
   */
  #spawn(args: readonly string[]): string {
    // ps exits 1 when none of the -p pids exists: its output is still the answer
    const result = spawnSync(this.#ps, args, { env: this.#env, encoding: "utf8", maxBuffer: MAX_OUTPUT_BYTES, stdio: ["ignore", "pipe", "ignore"] });
    return result.error ? "" : (result.stdout ?? "");
  }
}

/** One `ps -A` per sweep, run in the background; CPU in hundredths of a second, RSS in KiB. */
class PsUsageReader implements UsageReader {
  readonly pageBytes = 1024;
  readonly ticksPerSecond = 100;

  constructor(
    private readonly ps: string,
    private readonly fields: string,
    private readonly withSession: boolean,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  scan(): Promise<ProcUsage[]> {
    return new Promise((resolve, reject) => {
      execFile(this.ps, ["-A", "-ww", "-o", this.fields], { env: this.env, encoding: "utf8", maxBuffer: MAX_OUTPUT_BYTES }, (err, stdout) => {
        if (err && stdout === "") return reject(new Error(`cannot run ps: ${err.message}`));
        resolve(
          parsePsOutput(stdout, this.withSession).map((r) => ({
            pid: r.pid,
            ppid: r.ppid,
            pgid: r.pgid,
            session: r.session ?? -1,
            state: r.state,
            startTime: r.startTime,
            cpuTicks: r.cpuCentis,
            // ps's time is the process's own; what it reaped is not shown
            reapedCpuTicks: 0,
            rssPages: r.rssKiB,
          })),
        );
      });
    });
  }

  watch(): void {}

  close(): void {}
}

/** The first executable `ps` on PATH; "ps" (searched at each spawn) when there is none to find now. */
function findPs(path: string | undefined): string {
  for (const dir of (path ?? "/usr/bin:/bin").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "ps");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return "ps";
}
