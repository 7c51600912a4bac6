// A cgroup v2 per supervised instance, where the kernel lets vigil make one: whatever a child does to
// its session, group or parent (setsid, a double fork), its processes stay in the cgroup, and
// cgroup.kill ends them all at once. Without one, a job is tracked through /proc alone (job.ts).
//
// A child is born inside its cgroup: vigil steps into the instance's cgroup for the spawn, because moving
// the child in after the spawn leaves it a moment to fork something that escapes. vigil's own leaf
// ("supervisor") is a sibling of the instances', so that no cgroup vigil kills can hold vigil.
//
// Moving vigil costs the kernel far more than its size says (0.03–0.15 ms a move for a process of
// Node's dozen threads on a quiet machine, up to 1 ms on a busy one, against 10 µs for one thread;
// BENCHMARKS.md, "Spawning cheaper"), so vigil moves as little as it can: several spawns in one turn
// go from one instance's cgroup straight to the next, and vigil goes back to its own leaf once, at the
// end of the turn (a microtask), or at once before any of its cgroups is killed. Between turns, when a child, the kernel or another tool could
// kill or freeze a cgroup, vigil is always in its own leaf. The control files it writes for the moves
// are kept open (its own leaf's, and the last instance's).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, writeSync, constants as fsConstants } from "node:fs";
import { join } from "node:path";
import { readSmallFile } from "./small-file.js";

/** name of the directory of one supervisor's cgroups, under the cgroup vigil itself runs in */
export const CGROUP_DIR_PREFIX = "vigil-";

export interface CgroupRoot {
  /** absolute path of this supervisor's cgroup directory */
  readonly dir: string;
  /** the cgroup of one instance (made once, reused across its restarts); null when it cannot be made */
  forInstance(name: string): Cgroup | null;
  /**
   * Runs spawn() with vigil inside `cgroup`, so that the child is born there; false in `inside` when
   * vigil could not step in (the child is then born outside, in vigil's own leaf). vigil stays there
   * until the end of the turn (or the next spawn's cgroup, or a kill of one of its cgroups).
   */
  spawnInside<T>(cgroup: Cgroup, spawn: () => T): { readonly value: T; readonly inside: boolean };
  /** moves vigil back where it started and removes the directory (once every job has ended) */
  close(): void;
}

export class Cgroup {
  /** its cgroup.procs */
  readonly procsPath: string;

  constructor(
    readonly path: string,
    /** called before a kill: vigil leaves it first, should a spawn of this turn have left it there */
    private readonly beforeKill: () => void = () => undefined,
  ) {
    this.procsPath = join(path, "cgroup.procs");
  }

  /** Moves pid (and the threads of its process) into this cgroup; false when the kernel refused. */
  add(pid: number): boolean {
    return writeControl(this.procsPath, String(pid));
  }

  /**
   * The processes in it now (empty when the cgroup is gone), never vigil: vigil is in an instance's
   * cgroup for the rest of the turn of a spawn, and is no member of that job.
   */
  pids(): number[] {
    return this.#procs().filter((pid) => pid !== process.pid);
  }

  #procs(): number[] {
    const text = readSmallFile(this.procsPath);
    const pids: number[] = [];
    if (text === null) return pids;
    for (const line of text.split("\n")) if (line !== "") pids.push(Number(line));
    return pids;
  }

  /** SIGKILL to every process in it (never vigil), atomically where the kernel has cgroup.kill (5.14+). */
  kill(): void {
    this.beforeKill();
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
  const moves = new Moves(home);
  return {
    dir,
    forInstance(name) {
      let cgroup = made.get(name);
      if (cgroup !== undefined) return cgroup;
      cgroup = name === HOME ? null : new Cgroup(join(dir, name), () => moves.home());
      try {
        if (cgroup) mkdirSync(cgroup.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") cgroup = null;
      }
      made.set(name, cgroup);
      return cgroup;
    },
    spawnInside(cgroup, spawn) {
      const inside = moves.enter(cgroup);
      return { value: spawn(), inside };
    },
    close() {
      moves.close();
      origin.add(process.pid);
      for (const cgroup of made.values()) cgroup?.remove();
      made.clear();
      removeTree(dir);
    },
  };
}

/**
 * Where vigil is, and its moves: into an instance's cgroup for a spawn, from there straight into the
 * next one's, and home once the turn ends. The cgroup.procs of home and of the last instance stay open.
 */
class Moves {
  /** the instance cgroup vigil is in; null: its own leaf */
  #at: Cgroup | null = null;
  #homeFd: number | null = null;
  /** the last instance's cgroup.procs, open */
  #last: { readonly cgroup: Cgroup; readonly fd: number } | null = null;
  readonly #pid = String(process.pid);
  #closed = false;

  constructor(private readonly homeCgroup: Cgroup) {}

  /** vigil into `cgroup` (false when the kernel refused: vigil is then home), home at the end of the turn */
  enter(cgroup: Cgroup): boolean {
    if (this.#closed) return false;
    if (this.#at === cgroup) return true;
    if (!this.#write(cgroup)) {
      // never spawn in the cgroup of the turn's previous spawn
      this.home();
      return false;
    }
    if (this.#at === null) queueMicrotask(() => this.home());
    this.#at = cgroup;
    return true;
  }

  home(): void {
    if (this.#at === null) return;
    this.#at = null;
    // never stay in a cgroup that may be killed (and Cgroup.kill spares vigil should it happen)
    if (!this.#writeHome()) this.#writeHome();
  }

  close(): void {
    this.home();
    this.#closed = true;
    if (this.#homeFd !== null) closeSync(this.#homeFd);
    if (this.#last !== null) closeSync(this.#last.fd);
    this.#homeFd = null;
    this.#last = null;
  }

  #writeHome(): boolean {
    this.#homeFd ??= openControl(this.homeCgroup.procsPath);
    if (this.#homeFd !== null && writeFd(this.#homeFd, this.#pid)) return true;
    // the descriptor may be what broke: a fresh one next time
    if (this.#homeFd !== null) closeSync(this.#homeFd);
    this.#homeFd = null;
    return this.homeCgroup.add(process.pid);
  }

  #write(cgroup: Cgroup): boolean {
    if (this.#last?.cgroup !== cgroup) {
      if (this.#last !== null) closeSync(this.#last.fd);
      const fd = openControl(cgroup.procsPath);
      this.#last = fd === null ? null : { cgroup, fd };
    }
    if (this.#last !== null && writeFd(this.#last.fd, this.#pid)) return true;
    if (this.#last !== null) closeSync(this.#last.fd);
    this.#last = null;
    return false;
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
