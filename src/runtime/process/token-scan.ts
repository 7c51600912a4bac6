// Every child runs with its own VIGIL_TOKEN in its environment, and so does everything it starts, even a
// double-forked daemon that left its process tree, group and session. Reading the environments finds them:
// /proc/PID/environ on Linux, `ps` with its environment option elsewhere (table.ts, envOf).
import { readFileSync } from "node:fs";
import { isLiveState, type ProcStat } from "./proc.js";
import { takeSnapshot, type ProcSnapshot } from "./proc-snapshot.js";
import type { ProcessTable } from "./table.js";

const TOKEN_KEY = Buffer.from("VIGIL_TOKEN=");
/** tokens are 16 random bytes in hex */
const TOKEN_CHARS = 32;

/** The VIGIL_TOKEN in a process's environment; null when it has none or it cannot be read. */
export function readEnvironToken(pid: number): string | null {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return null;
  }
  // entries are NUL-separated; the key must start an entry
  for (let at = environ.indexOf(TOKEN_KEY); at >= 0; at = environ.indexOf(TOKEN_KEY, at + 1)) {
    if (at > 0 && environ[at - 1] !== 0) continue;
    const start = at + TOKEN_KEY.length;
    const end = environ.indexOf(0, start);
    return environ.toString("latin1", start, end < 0 ? environ.length : end);
  }
  return null;
}

/** "redis-server *:6379", the process's command line, or its name in brackets when that is empty. */
export function readCommandLine(pid: number): string {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").replaceAll("\0", " ");
    if (text !== "") return text.length > 200 ? `${text.slice(0, 200)}…` : text;
    return `[${readFileSync(`/proc/${pid}/comm`, "utf8").trim()}]`;
  } catch {
    return "?";
  }
}

/** The tokens of the processes, through the table; pids whose environment cannot be read are absent. */
function tokensOf(table: ProcessTable, pids: readonly number[] | "all"): Map<number, string> {
  return table.envOf(pids, "VIGIL_TOKEN");
}

/**
 * Live processes that carry one of the tokens, by token, as `look` (a fresh snapshot) sees them. Only
 * processes started at or after `sinceStartTime` (in the table's clock) are read: the others cannot
 * belong to a job that young. ps lists every process with its environment in one run, as cheaply as
 * some, and that run's list is the snapshot then (`look` is not called).
 */
export function findTokenHolders<T>(
  table: ProcessTable,
  look: () => ProcSnapshot,
  tokens: ReadonlyMap<string, T>,
  sinceStartTime = 0,
  skip: ReadonlySet<number> = new Set(),
): Map<T, ProcStat[]> {
  const found = new Map<T, ProcStat[]>();
  if (tokens.size === 0 || !table.readsEnvironment) return found;
  const portable = table.backend === "portable";
  const everyToken = portable ? tokensOf(table, "all") : null;
  const snap = portable ? takeSnapshot(table.list(false)) : look();
  const candidates: number[] = [];
  for (const s of snap.byPid.values()) {
    if (!isLiveState(s.state) || s.startTime < sinceStartTime || s.pid === process.pid || skip.has(s.pid)) continue;
    candidates.push(s.pid);
  }
  const read = everyToken ?? tokensOf(table, candidates);
  const wanted = new Set(candidates);
  for (const [pid, token] of read) {
    if (token.length !== TOKEN_CHARS || !wanted.has(pid)) continue;
    const owner = tokens.get(token);
    const s = snap.byPid.get(pid);
    if (owner === undefined || s === undefined) continue;
    const list = found.get(owner);
    if (list) list.push(s);
    else found.set(owner, [s]);
  }
  return found;
}

/**
 * The live processes carrying one of the tokens, by its owner, without a scan of the whole table: pids
 * are handed out in increasing order, so what a child started after its birth has a higher pid than the
 * child (unless the pid counter wrapped meanwhile, in which case every pid is looked at); `afterPid` is
 * the lowest of the children's pids. `skip`: processes known to belong to other jobs, which carry their
 * own token (reading every environment of a large stack is what costs). The portable backend reads
 * every pid but `skip` in one ps anyway, and some systems hand out pids at random (OpenBSD), so there
 * the order of pids is not relied on.
 */
export function holdersOf<T>(table: ProcessTable, tokens: ReadonlyMap<string, T>, afterPid: number, skip: ReadonlySet<number> = new Set()): Map<T, ProcStat[]> {
  const found = new Map<T, ProcStat[]>();
  if (tokens.size === 0 || !table.readsEnvironment) return found;
  // ps: one run lists every process with its environment (the list for table.read below too)
  const pids = table.backend === "portable" ? "all" : table.pids();
  const wrapped = pids === "all" || !pids.some((pid) => pid > afterPid);
  const candidates = pids === "all" ? "all" : pids.filter((pid) => (wrapped || pid > afterPid) && pid !== process.pid && !skip.has(pid));
  for (const [pid, token] of tokensOf(table, candidates)) {
    if (pid === process.pid || skip.has(pid)) continue;
    const owner = tokens.get(token);
    if (owner === undefined) continue;
    const stat = table.read(pid);
    if (!stat || !isLiveState(stat.state)) continue;
    const list = found.get(owner);
    if (list) list.push(stat);
    else found.set(owner, [stat]);
  }
  return found;
}
