// A cgroup v2 per supervised instance, where the kernel lets vigil make one: whatever a child does to
// its session, group or parent (setsid, a double fork), its processes stay in the cgroup, and
// cgroup.kill ends them all at once. Without one, a job is tracked through /proc alone (job.ts).
//
// A child is moved into its cgroup the moment its spawn returns: by then it has only just exec'd, and
// whatever it forked before the move is still in vigil's own leaf ("supervisor", a sibling of the
// instances', so that no cgroup vigil kills can hold vigil), where it is found and moved after it: a
// process in the leaf that was not there before the spawn and is not one of vigil's other children
// (probes, actions) or theirs. vigil itself never leaves its leaf. It used to step into the instance's
// cgroup for each spawn so that the child was born there, and home again at the end of the turn: two
// moves a restart, where there is now one. A move costs the kernel 50–70 µs whoever moves, and now and
// then 0.7 ms (a wait for an RCU grace period on the migration lock); moving vigil added an interrupt to
// the other core for each of node's dozen threads (BENCHMARKS.md, "The restart gap").
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, writeSync, constants as fsConstants } from "node:fs";
import { join } from "node:path";
import { readProcStat, type ProcStat } from "./proc.js";
import { readOpenFile, readSmallFile } from "./small-file.js";

/** name of the directory of one supervisor's cgroups, under the cgroup vigil itself runs in */
export const CGROUP_DIR_PREFIX = "vigil-";

export interface CgroupRoot {
  /** absolute path of this supervisor's cgroup directory */
  readonly dir: string;
  /** the cgroup of one instance (made once, reused across its restarts); null when it cannot be made */
  forInstance(name: string): Cgroup | null;
  /**
   * Runs spawn() and moves the child it returns into `cgroup` at once, with whatever the child forked
   * before the move; false in `inside` when the child could not be moved (gone already, or the kernel
   * refused): it is then tracked without a cgroup.
   */
  spawnInto<T extends { readonly pid?: number | undefined } | null>(cgroup: Cgroup, spawn: () => T): { readonly value: T; readonly inside: boolean };
  /** moves vigil back where it started and removes the directory (once every job has ended) */
  close(): void;
}

export class Cgroup {
  /** its cgroup.procs */
  readonly procsPath: string;

  constructor(readonly path: string) {
    this.procsPath = join(path, "cgroup.procs");
  }

  /** Moves pid (and the threads of its process) into this cgroup; false when the kernel refused. */
  add(pid: number): boolean {
    return writeControl(this.procsPath, String(pid));
  }

  /** The processes in it now (empty when the cgroup is gone), never vigil (which is in its own leaf). */
  pids(): number[] {
    return this.#procs().filter((pid) => pid !== process.pid);
  }

  #procs(): number[] {
    const text = readSmallFile(this.procsPath);
    return text === null ? [] : procsOf(text);
  }

  /** SIGKILL to every process in it (never vigil), atomically where the kernel has cgroup.kill (5.14+). */
  kill(): void {
    const pids = this.#procs();
    if (!pids.includes(process.pid) && writeControl(join(this.path, "cgroup.kill"), "1")) return;
    for (const pid of pids) {
      if (pid === process.pid) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  }

  remove(): void {
    try {
      rmdirSync(this.path);
    } catch {
      // still populated (a process that cannot be killed) or gone already
    }
  }
}

function writeControl(path: string, text: string): boolean {
  const fd = openControl(path);
  if (fd === null) return false;
  try {
    return writeFd(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** Where the cgroup2 hierarchy is mounted, from mountinfo; null without one. */
export function cgroup2Mount(mountinfo: string): string | null {
  for (const line of mountinfo.split("\n")) {
    // "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw"
    const dash = line.indexOf(" - ");
    if (dash < 0 || !line.slice(dash + 3).startsWith("cgroup2 ")) continue;
    const fields = line.slice(0, dash).split(" ");
    if (fields[3] === "/" && fields[4]) return unescapeMountPath(fields[4]);
  }
  return null;
}

/** The cgroup2 path of a process, from the "0::/path" line of /proc/PID/cgroup; null without one. */
export function ownCgroupPath(procCgroup: string): string | null {
  const line = procCgroup.split("\n").find((l) => l.startsWith("0::"));
  return line === undefined ? null : line.slice(3);
}

function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export type CgroupOutcome = { readonly root: CgroupRoot } | { readonly root: null; readonly reason: string };

/**
 * Makes this supervisor's cgroup directory beside the cgroup it runs in, or says why it cannot:
 * no cgroup2, no permission, or VIGIL_CGROUP=off.
 */
export function openCgroupRoot(env: NodeJS.ProcessEnv = process.env): CgroupOutcome {
  if (env["VIGIL_CGROUP"] === "off") return { root: null, reason: "VIGIL_CGROUP=off" };
  let mount: string | null;
  let own: string | null;
  try {
    mount = cgroup2Mount(readFileSync("/proc/self/mountinfo", "utf8"));
    own = ownCgroupPath(readFileSync("/proc/self/cgroup", "utf8"));
  } catch (err) {
    return { root: null, reason: `cannot read /proc: ${(err as Error).message}` };
  }
  if (mount === null || own === null) return { root: null, reason: "no cgroup2 hierarchy is mounted" };
  const origin = new Cgroup(join(mount, own));
  const dir = join(origin.path, `${CGROUP_DIR_PREFIX}${process.pid}`);
  const home = new Cgroup(join(dir, HOME));
  try {
    mkdirSync(dir, { mode: 0o755 });
    mkdirSync(home.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    removeTree(dir);
    return { root: null, reason: `cannot create ${home.path}: ${code ?? (err as Error).message}` };
  }
  if (!home.add(process.pid)) {
    removeTree(dir);
    return { root: null, reason: `cannot move vigil into ${home.path}` };
  }
  removeEmptyLeftovers(origin.path);
  return { root: cgroupRoot(dir, home, origin) };
}

/**
 * The empty cgroup directories of supervisors that died without removing theirs (SIGKILL). Only empty
 * ones: what is still in a dead supervisor's cgroups is for that stack's next start to end.
 */
function removeEmptyLeftovers(parent: string): void {
  for (const name of subdirectories(parent)) {
    const owner = Number(name.slice(CGROUP_DIR_PREFIX.length));
    if (!name.startsWith(CGROUP_DIR_PREFIX) || !Number.isInteger(owner) || owner === process.pid) continue;
    if (existsSync(`/proc/${owner}`)) continue;
    removeTree(join(parent, name));
  }
}

/** vigil's own leaf, beside the instances' cgroups */
const HOME = "supervisor";

function cgroupRoot(dir: string, home: Cgroup, origin: Cgroup): CgroupRoot {
  const made = new Map<string, Cgroup | null>();
  const mover = new Mover();
  const leaf = new Leaf(home);
  return {
    dir,
    forInstance(name) {
      let cgroup = made.get(name);
      if (cgroup !== undefined) return cgroup;
      cgroup = name === HOME ? null : new Cgroup(join(dir, name));
      try {
        if (cgroup) mkdirSync(cgroup.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") cgroup = null;
      }
      made.set(name, cgroup);
      return cgroup;
    },
    spawnInto(cgroup, spawn) {
      const before = leaf.before();
      const value = spawn();
      const pid = value?.pid;
      if (pid === undefined || !mover.move(cgroup, pid)) {
        leaf.forget();
        return { value, inside: false };
      }
      // what it forked before the move, and what those forked meanwhile: after its move, a process
      // forks into the cgroup it is in, so a few rounds find the rest (a fork that raced a move is
      // seen in the leaf the next round)
      let now = leaf.read();
      for (let round = 0; round < SWEEP_ROUNDS; round++) {
        const fresh = now.filter((p) => !before.has(p));
        if (fresh.length === 0) break;
        const stats = fresh.map(readProcStat).filter((s): s is ProcStat => s !== null);
        const forked = forkedByChild(stats, pid, before);
        if (forked.length === 0) break;
        for (const p of forked) mover.move(cgroup, p);
        now = leaf.read();
      }
      // (a fork bomb that outran 64 rounds would leave the rest in the leaf, taken for vigil's own)
      leaf.after(now);
      return { value, inside: true };
    },
    close() {
      leaf.close();
      mover.close();
      origin.add(process.pid);
      for (const cgroup of made.values()) cgroup?.remove();
      made.clear();
      removeTree(dir);
    },
  };
}

/**
 * rounds of the look for what a child forked before its move, at most: each finds what the one before
 * moved too late to stop (one forked between the look and its parent's move): a round a generation
 */
const SWEEP_ROUNDS = 64;

/**
 * Which of the processes that came into vigil's leaf during a spawn (`fresh`) the child `childPid`
 * made: those in its session or under it. What is under vigil (another of its children; vigil's own
 * spawns never run during a spawn) or under a process that was there before (a probe's command) stays.
 * One whose parent is neither (an orphan: its parent exited at once, as a double fork's does) can only
 * be the child's, the one process that ran in the leaf without being in it before.
 */
export function forkedByChild(fresh: readonly ProcStat[], childPid: number, before: ReadonlySet<number>, vigilPid: number = process.pid): number[] {
  const child = new Set<number>([childPid]);
  const others = new Set<number>(before);
  others.add(vigilPid);
  const open = new Map(fresh.filter((s) => s.pid !== childPid && s.pid !== vigilPid).map((s) => [s.pid, s]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [pid, s] of open) {
      const mine = s.session === childPid || child.has(s.ppid);
      if (!mine && !others.has(s.ppid)) continue;
      (mine ? child : others).add(pid);
      open.delete(pid);
      changed = true;
    }
  }
  // an orphan, or a process under one
  for (const pid of open.keys()) child.add(pid);
  child.delete(childPid);
  return [...child];
}

/**
 * vigil's leaf: what is in it, read through a descriptor kept open. The listing a spawn ends with is
 * what the next spawn of the same turn starts from (a start of many services reads it once a spawn,
 * not twice); the next turn reads it anew.
 */
class Leaf {
  #fd: number | null = null;
  #known: ReadonlySet<number> | null = null;

  constructor(private readonly home: Cgroup) {}

  /** the processes in the leaf before a spawn (never vigil) */
  before(): ReadonlySet<number> {
    return this.#known ?? new Set(this.read());
  }

  /** the leaf's listing once a spawn's child and what it forked are out of it */
  after(pids: readonly number[]): void {
    if (this.#known === null) queueMicrotask(() => this.forget());
    this.#known = new Set(pids);
  }

  forget(): void {
    this.#known = null;
  }

  read(): number[] {
    let text: string | null = null;
    try {
      this.#fd ??= openSync(this.home.procsPath, fsConstants.O_RDONLY);
      text = readOpenFile(this.#fd);
    } catch {
      this.close();
    }
    return text === null ? this.home.pids() : procsOf(text).filter((pid) => pid !== process.pid);
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    this.#known = null;
  }
}

/** the pids a cgroup.procs lists, one a line */
function procsOf(text: string): number[] {
  const pids: number[] = [];
  for (const line of text.split("\n")) if (line !== "") pids.push(Number(line));
  return pids;
}

/**
 * Moves processes into instances' cgroups, the last one's cgroup.procs kept open (a crash loop moves
 * each new child into the same one).
 */
class Mover {
  #last: { readonly cgroup: Cgroup; readonly fd: number } | null = null;

  /** false when the kernel refused (the process is gone, or the cgroup) */
  move(cgroup: Cgroup, pid: number): boolean {
    if (this.#last?.cgroup !== cgroup) {
      this.close();
      const fd = openControl(cgroup.procsPath);
      if (fd === null) return false;
      this.#last = { cgroup, fd };
    }
    if (writeFd(this.#last.fd, String(pid))) return true;
    // the descriptor may be what broke (the cgroup removed): a fresh one next time
    this.close();
    return false;
  }

  close(): void {
    if (this.#last !== null) closeSync(this.#last.fd);
    this.#last = null;
  }
}

function openControl(path: string): number | null {
  try {
    return openSync(path, fsConstants.O_WRONLY | fsConstants.O_NOFOLLOW);
  } catch {
    return null;
  }
}

function writeFd(fd: number, text: string): boolean {
  try {
    writeSync(fd, text);
    return true;
  } catch {
    return false;
  }
}

/** Ends whatever is left in a cgroup directory (a supervisor that died left it), then removes it. */
export function killCgroupTree(dir: string): number {
  let killed = 0;
  for (const sub of subdirectories(dir)) killed += killCgroupTree(join(dir, sub));
  const cgroup = new Cgroup(dir);
  const pids = cgroup.pids();
  if (pids.length > 0) {
    killed += pids.length;
    cgroup.kill();
  }
  return killed;
}

/** the child cgroups of a cgroup: cgroupfs lists control files as files and child cgroups as directories */
function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

/** Removes a cgroup directory and the cgroups under it (each must be empty by then). */
export function removeCgroupTree(dir: string): void {
  removeTree(dir);
}

function removeTree(dir: string): void {
  for (const sub of subdirectories(dir)) removeTree(join(dir, sub));
  try {
    rmdirSync(dir);
  } catch {
    // populated still, or gone
  }
}
