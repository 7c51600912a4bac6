// Every process that belongs to one spawn of a child, whatever it did to its session, group or parent:
// the main process, its process group, its descendants (also once they leave the group), the members of
// its cgroup, and processes found carrying its VIGIL_TOKEN (token-scan.ts). Stopping or killing a job
// reaches all of them; the job has ended when none is left.
import { isLiveState, type ProcStat } from "./proc.js";
import type { Cgroup } from "./cgroup.js";
import { liveDescendants, type ProcSnapshot } from "./proc-snapshot.js";
import { processes } from "./table.js";

export interface JobMember {
  readonly pid: number;
  readonly command: string;
  /** it left the process group: a daemon (setsid, double fork) */
  readonly escaped: boolean;
}

/** A look at the processes of the trees that start at the roots (proc-snapshot.ts, treeSnapshot). */
export type Look = (roots: readonly number[]) => ProcSnapshot;

export class Job {
  /** pid → start time of every process known to belong, the main one included */
  readonly #members = new Map<number, number>();

  constructor(
    /** the per-spawn VIGIL_TOKEN in the child's environment */
    readonly token: string,
    /** the main process, leader of its own process group */
    readonly pid: number,
    readonly cgroup: Cgroup | null,
  ) {}

  /** Adds processes known to belong (a resource sweep's tree, a token scan). */
  adopt(members: Iterable<ProcStat>): void {
    for (const m of members) if (isLiveState(m.state)) this.#members.set(m.pid, m.startTime);
  }

  /**
   * Every live member in the snapshot: known members still alive (and not a reused pid), the process
   * group, the cgroup, and the descendants of all of these.
   */
  members(snap: ProcSnapshot | Look, cgroupPids: readonly number[] = this.cgroup?.pids() ?? []): ProcStat[] {
    if (typeof snap === "function") snap = snap([this.pid, ...this.#members.keys(), ...cgroupPids]);
    const found = new Map<number, ProcStat>();
    const take = (s: ProcStat | undefined): void => {
      if (s && isLiveState(s.state)) found.set(s.pid, s);
    };
    for (const [pid, startTime] of this.#members) {
      const s = snap.byPid.get(pid);
      if (s && s.startTime === startTime && isLiveState(s.state)) take(s);
      else this.#members.delete(pid);
    }
    take(snap.byPid.get(this.pid));
    for (const pid of cgroupPids) take(snap.byPid.get(pid));
    for (const s of snap.byPid.values()) if (s.pgid === this.pid) take(s);
    for (const s of liveDescendants(snap, found.keys())) take(s);
    for (const s of found.values()) this.#members.set(s.pid, s.startTime);
    return [...found.values()];
  }

  /** The main process and the members known so far (no look at the process table). */
  known(): IterableIterator<number> {
    return this.#members.keys();
  }

  /** Where the job's trees start: the main process, the members known so far, the cgroup's. */
  roots(): number[] {
    return [this.pid, ...this.#members.keys(), ...(this.cgroup?.pids() ?? [])];
  }

  /**
   * Whether anything of the job may still live, without a full scan of the process table: the group, the cgroup and
   * the known members. A process that escaped all three unseen is left to the token scan.
   */
  mayLive(isSame: (pid: number, startTime: number) => boolean): boolean {
    if (groupExists(this.pid)) return true;
    if ((this.cgroup?.pids().length ?? 0) > 0) return true;
    for (const [pid, startTime] of this.#members) {
      if (isSame(pid, startTime)) return true;
      this.#members.delete(pid);
    }
    return false;
  }

  /**
   * Sends signal to every member; returns how many were signalled. `snap`: a snapshot, or a look at the
   * trees from the roots it is given (the main process, the known members and the cgroup's).
   */
  signal(signal: NodeJS.Signals, snap: ProcSnapshot | Look): number {
    const members = this.members(snap);
    this.#send(signal, members);
    return members.length;
  }

  /** Stop signal, then SIGCONT: a stopped (SIGSTOP, ^Z) process cannot act on the signal until it runs. */
  stop(signal: NodeJS.Signals, snap: ProcSnapshot | Look): number {
    const members = this.members(snap);
    this.#send(signal, members);
    if (signal !== "SIGKILL" && signal !== "SIGCONT") this.#send("SIGCONT", members);
    return members.length;
  }

  /**
   * Stop signal and SIGCONT to the process group alone, reading nothing: the first half of a stop of a
   * job in its cgroup, whose other members cannot get away meanwhile (stopOutsideGroup).
   */
  stopGroup(signal: NodeJS.Signals): void {
    if (!groupExists(this.pid)) return;
    trySignal(-this.pid, signal);
    if (signal !== "SIGKILL" && signal !== "SIGCONT") trySignal(-this.pid, "SIGCONT");
  }

  /** The second half: the members that left the group get the stop signal and SIGCONT. */
  stopOutsideGroup(signal: NodeJS.Signals, snap: ProcSnapshot | Look): void {
    const outside = this.members(snap).filter((m) => m.pgid !== this.pid);
    for (const m of outside) trySignal(m.pid, signal);
    if (signal !== "SIGKILL" && signal !== "SIGCONT") for (const m of outside) trySignal(m.pid, "SIGCONT");
  }

  kill(snap: ProcSnapshot | Look): number {
    this.cgroup?.kill();
    return this.signal("SIGKILL", snap);
  }

  /** The group at once (what a shell does for a job), then whoever left it. */
  #send(signal: NodeJS.Signals, members: readonly ProcStat[]): void {
    if (groupExists(this.pid)) trySignal(-this.pid, signal);
    for (const m of members) if (m.pgid !== this.pid) trySignal(m.pid, signal);
  }

  /** The members that are left, with their commands, for a warning. */
  describe(snap: ProcSnapshot): JobMember[] {
    const members = this.members(snap);
    const commands = processes().commandLines(members.map((m) => m.pid));
    return members.map((m) => ({ pid: m.pid, command: commands.get(m.pid) ?? "?", escaped: m.pgid !== this.pid }));
  }
}

function groupExists(pgid: number): boolean {
  // a group gone is the common answer (every exit asks): its exception is made without a stack trace,
  // which is most of its cost
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    // EPERM: a member we may not signal exists; it still counts as alive
    return (err as NodeJS.ErrnoException).code === "EPERM";
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  if (pid === 0 || pid === -1 || pid === 1 || pid === process.pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    // gone already, or not ours
  }
}
