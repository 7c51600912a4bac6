// The last line of "no process left behind": after a job has ended, and before vigil exits, the process
// table is searched for processes still carrying the job's token (a daemon that double-forked out of the tree and
// the group while no cgroup held it). Each one found is killed and named in a warning.
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { ProcStat } from "./proc.js";
import { isSameProcess } from "./table.js";
import type { ProcScanner } from "./proc-snapshot.js";
import { findTokenHolders } from "./token-scan.js";

/** after a job ends, its token is looked for this many times, this far apart */
const LOOKS = 2;
const LOOK_EVERY_MS = 250;
const KILL_WAIT_MS = 2_000;

export interface Stray {
  readonly service: string;
  readonly pid: number;
  readonly command: string;
}

export class StrayReaper {
  /** token → service and looks left */
  readonly #pending = new Map<string, { readonly service: string; looks: number }>();
  #timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly scanner: ProcScanner,
    private readonly onStray: (stray: Stray) => void,
    /** processes known to belong to live jobs: they carry their own token, and are not read */
    private readonly live: () => ReadonlySet<number> = () => new Set(),
  ) {}

  /** The job of `service` that ran with `token` has ended: look for what it left. */
  ended(token: string, service: string): void {
    this.#pending.set(token, { service, looks: LOOKS });
    this.#timer ??= this.clock.setTimer(LOOK_EVERY_MS, () => this.#look());
  }

  /**
   * One last look, now, for every token still pending and the ones given (jobs that ended at
   * shutdown); kills what it finds and waits until those processes are gone, at most KILL_WAIT_MS.
   */
  async finish(tokens: ReadonlyMap<string, string> = new Map()): Promise<void> {
    if (this.#timer !== null) this.clock.clearTimer(this.#timer);
    this.#timer = null;
    for (const [token, service] of tokens) this.#pending.set(token, { service, looks: 1 });
    const killed = this.#sweep();
    this.#pending.clear();
    const deadline = Date.now() + KILL_WAIT_MS;
    while (killed.some((s) => isSameProcess(s.pid, s.startTime)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  #look(): void {
    this.#timer = null;
    this.#sweep();
    for (const [token, entry] of this.#pending) if (--entry.looks <= 0) this.#pending.delete(token);
    if (this.#pending.size > 0) this.#timer = this.clock.setTimer(LOOK_EVERY_MS, () => this.#look());
  }

  #sweep(): ProcStat[] {
    if (this.#pending.size === 0) return [];
    const services = new Map<string, string>();
    for (const [token, { service }] of this.#pending) services.set(token, service);
    const byService = findTokenHolders(this.scanner.table, () => this.scanner.fresh(), services, 0, this.live());
    const killed: ProcStat[] = [];
    for (const [service, procs] of byService) {
      for (const p of procs) {
        const command = this.scanner.table.commandLine(p.pid);
        try {
          process.kill(p.pid, "SIGKILL");
          killed.push(p);
        } catch {
          continue;
        }
        this.onStray({ service, pid: p.pid, command });
      }
    }
    return killed;
  }
}
