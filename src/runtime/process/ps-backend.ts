// The portable backend of the process table: `ps`, where there is no /proc (macOS, the BSDs), and on
// Linux with VIGIL_PROCESS_BACKEND=portable. One `ps -A` gives every process (ps-parse.ts); what is read
// of one process within a turn of the event loop comes from the last such list of that turn, so a
// shutdown of many jobs runs ps a few times, not once per process. A command line is read on its own
// (a warning's, the lock's): the lists leave it out, since it costs procps one more file a process. Start times are ps's lstart, whole
// seconds: a pid reused within the same second by another process would pass for the old one, so the
// lock compares the command too, and children.json the VIGIL_TOKEN. ps shows a process's environment
// where its platform has the option for it (psEnvironmentFlag): the token scan works there; elsewhere
// jobs are the process group and the tree alone.
import { execFile, spawnSync } from "node:child_process";
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
  /** the last full list of this turn, by pid */
  #turn: Map<number, PsRow> | null = null;

  constructor(platform: string = process.platform) {
    this.#platform = platform;
    this.#fields = psFields(platform);
    this.#withSession = platform === "linux";
    this.#envFlag = psEnvironmentFlag(platform);
    this.readsEnvironment = this.#envFlag !== null;
    this.#env = { ...process.env, ...PS_ENV };
  }

  list(): ProcStat[] {
    return [...this.#listed().values()];
  }

  read(pid: number): ProcStat | null {
    if (!Number.isInteger(pid) || pid <= 0) return null;
    if (this.#turn) return this.#turn.get(pid) ?? null;
    // one process, and the first look of this turn: ps for it alone
    return this.#run(["-ww", "-o", this.#fields, "-p", String(pid)]).find((r) => r.pid === pid) ?? null;
  }

  pids(): number[] {
    return [...this.#listed().keys()];
  }

  tree(): ProcSnapshot | null {
    return null;
  }

  only(pids: Iterable<number>): ProcSnapshot {
    const listed = this.#turn ?? this.#listed();
    return takeSnapshot([...new Set(pids)].flatMap((pid) => listed.get(pid) ?? []));
  }

  envOf(pids: readonly number[] | "all", name: string): Map<number, string> {
    if (this.#envFlag === null || (pids !== "all" && pids.length === 0)) return new Map();
    const which = pids === "all" ? ["-A"] : ["-p", pids.join(",")];
    const out = this.#spawn([this.#envFlag, "-ww", "-o", "pid=,command=", ...which]);
    return parseEnvironLines(out, name);
  }

  commandLine(pid: number): string {
    if (!Number.isInteger(pid) || pid <= 0) return "?";
    const row = parsePsOutput(this.#spawn(["-ww", "-o", psFields(this.#platform, true), "-p", String(pid)]), this.#withSession).find((r) => r.pid === pid);
    if (!row || row.command === "") return "?";
    const text = row.command;
    return text.length > COMMAND_CHARS ? `${text.slice(0, COMMAND_CHARS)}…` : text;
  }

  usageReader(): UsageReader {
    return new PsUsageReader(this.#fields, this.#withSession, this.#env);
  }

  /** A fresh list, kept as this turn's for read(). */
  #listed(): Map<number, PsRow> {
    const rows = this.#run(["-A", "-ww", "-o", this.#fields]);
    const byPid = new Map<number, PsRow>();
    for (const row of rows) byPid.set(row.pid, row);
    if (this.#turn === null) setImmediate(() => (this.#turn = null));
    this.#turn = byPid;
    return byPid;
  }

  #run(args: readonly string[]): PsRow[] {
    return parsePsOutput(this.#spawn(args), this.#withSession);
  }

  #spawn(args: readonly string[]): string {
    // ps exits 1 when none of the -p pids exists: its output is still the answer
    const result = spawnSync("ps", args, { env: this.#env, encoding: "utf8", maxBuffer: MAX_OUTPUT_BYTES, stdio: ["ignore", "pipe", "ignore"] });
    if (result.error) throw new Error(`cannot run ps: ${result.error.message}`);
    return result.stdout ?? "";
  }
}

/** One `ps -A` per sweep, run in the background; CPU in hundredths of a second, RSS in KiB. */
class PsUsageReader implements UsageReader {
  readonly pageBytes = 1024;
  readonly ticksPerSecond = 100;

  constructor(
    private readonly fields: string,
    private readonly withSession: boolean,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  scan(): Promise<ProcUsage[]> {
    return new Promise((resolve, reject) => {
      execFile("ps", ["-A", "-ww", "-o", this.fields], { env: this.env, encoding: "utf8", maxBuffer: MAX_OUTPUT_BYTES }, (err, stdout) => {
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
