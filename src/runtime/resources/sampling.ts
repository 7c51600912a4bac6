// The resource adapter: one /proc sweep of every running child's process tree and a look at the host,
// reported to the loop (ResourcesSampled), which judges limits and the disk. One sweep at a time: the
// next is armed when one ends.
//
// Its pace follows what is watched: every `resources.interval` while a service has limits, a disk check
// is set, the manifest sets the interval itself, or someone shows the figures (status --watch, a
// dashboard, a metrics scrape); else once in IDLE_SAMPLE_MS, so that a supervisor of idle children
// spends next to nothing; a child just started is sampled twice at the full pace all the same. The status
// document says which pace holds and why.
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { InstanceId } from "../../core/stack/ids.js";
import type { Input, InstanceSample } from "../../core/stack/inputs.js";
import type { SamplingDoc } from "../../control/status-document.js";
import type { ProcStat } from "../process/proc.js";
import { HostSampler } from "./host.js";
import { ResourceSampler, type ResourcePoint } from "./sampler.js";

/**
 * the pace when nothing needs fresh figures: a sweep of 1,000 children costs about a tenth of a second
 * of CPU with its collection (BENCHMARKS.md, "Peers"), so once a minute is under 0.3 % of a core
 */
export const IDLE_SAMPLE_MS = 60_000;
/** a reader of live figures (a status --watch poll, a metrics scrape) keeps the full pace this long */
export const LIVE_HOLD_MS = 60_000;

export interface SamplingOptions {
  readonly clock: Clock;
  readonly post: (input: Input) => void;
  /** the main pid of every running child */
  readonly pids: () => ReadonlyMap<InstanceId, number>;
  /** a sweep saw this tree under a child's main pid: it belongs to the child's job */
  readonly adopt: (id: InstanceId, pid: number, tree: readonly ProcStat[]) => void;
  /** what went wrong, for the supervisor's log */
  readonly onError: (err: Error) => void;
  /** false while file descriptors are scarce: /proc handles are then opened for each sweep only */
  readonly holdHandles?: () => boolean;
  /**
   * a sweep found children of vigil that exited and were not reaped (process/reap-nudge.ts); `again`
   * names those of them that are a service's main process and that the sweep before found too (one found
   * once may have exited a moment ago, its signal on its way; a zombie that is no child of Node's own,
   * one vigil inherited from whatever exec'd it, is never reaped and never named)
   */
  readonly unreaped?: (again: readonly number[]) => void;
  /**
   * a sweep has run for SWEEP_STALL_MS and goes on (again each time): where it waits for a `ps` of its
   * own (the portable backend), that child's lost SIGCHLD would hold every later sweep for ever
   */
  readonly stalled?: () => void;
}

/** how long a sweep may take before `stalled` is called */
export const SWEEP_STALL_MS = 5_000;

export interface SamplingSettings {
  readonly intervalMs: number;
  /** the path whose disk is watched (checks.disk.path, else the state dir) */
  readonly diskPath: string;
  /** what in the manifest needs every sample ("limits", "disk-check", "host-check", "interval-set"), or null */
  readonly fullPaceFor: string | null;
}

export class Sampling {
  readonly #sampler: ResourceSampler;
  readonly #host = new HostSampler();
  #timer: TimerHandle | null = null;
  /** when the armed timer is due (monotonic), or null while a sweep runs or none is armed */
  #dueMs: number | null = null;
  #lastSweepMs = -Infinity;
  #stopped = true;
  /** open streams of live figures (dashboards) */
  #watchers = 0;
  /** full pace until then, for readers that come back (status --watch, metrics scrapes) */
  #liveUntilMs = -Infinity;
  /**
   * sweeps still owed at the full pace to children just started: two, since a process's CPU is the
   * difference of two samples (its first has memory alone)
   */
  #newcomerSweeps = 0;
  /** what the last sweep found exited and not reaped */
  #unreaped: ReadonlySet<number> = new Set();

  constructor(
    private readonly opts: SamplingOptions,
    private settings: SamplingSettings,
  ) {
    this.#sampler = new ResourceSampler(opts.holdHandles ? { holdHandles: opts.holdHandles } : {});
  }

  start(): void {
    this.#stopped = false;
    this.#arm(0);
  }

  stop(): void {
    this.#stopped = true;
    this.#disarm();
    this.#sampler.close();
  }

  /** New settings from a reload take effect from the next sweep (sooner when the pace quickens). */
  configure(settings: SamplingSettings): void {
    this.settings = settings;
    this.#quicken();
  }

  /**
   * Someone shows live figures (a dashboard's event stream): the full pace until the returned function
   * is called (once; later calls do nothing).
   */
  watch(): () => void {
    this.#watchers++;
    this.#quicken();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#watchers--;
    };
  }

  /** A reader of live figures that comes back (status --watch, a metrics scrape): the full pace for LIVE_HOLD_MS. */
  touch(): void {
    this.#liveUntilMs = this.opts.clock.now() + LIVE_HOLD_MS;
    this.#quicken();
  }

  /** someone shows live figures now (a dashboard, `status --watch`, a scrape within LIVE_HOLD_MS) */
  watched(): boolean {
    return this.#watchers > 0 || this.opts.clock.now() < this.#liveUntilMs;
  }

  /** A child started: the next two sweeps come one interval apart, so that its first figures are not a minute away. */
  spawned(): void {
    this.#newcomerSweeps = 2;
    this.#quicken();
  }

  /** The pace now, for the status document. */
  pace(): SamplingDoc {
    const because = this.#fullPaceFor();
    if (because !== null) return { pace: "full", interval_ms: this.settings.intervalMs, because };
    return { pace: "idle", interval_ms: this.#idleMs(), because: "none" };
  }

  forget(id: InstanceId): void {
    this.#sampler.forget(id);
  }

  history(id: InstanceId): ResourcePoint[] {
    return this.#sampler.history(id);
  }

  historyJson(id: InstanceId, isoOf: (atMs: number) => string): string {
    return this.#sampler.historyJson(id, isoOf);
  }

  #fullPaceFor(): string | null {
    if (this.settings.fullPaceFor !== null) return this.settings.fullPaceFor;
    if (this.watched()) return "watched";
    return null;
  }

  #idleMs(): number {
    return Math.max(this.settings.intervalMs, IDLE_SAMPLE_MS);
  }

  #intervalMs(): number {
    return this.#fullPaceFor() === null && this.#newcomerSweeps === 0 ? this.#idleMs() : this.settings.intervalMs;
  }

  /** The pace may have quickened: a timer armed for later than the full pace allows comes sooner. */
  #quicken(): void {
    if (this.#stopped || this.#dueMs === null) return;
    const dueMs = Math.max(this.opts.clock.now(), this.#lastSweepMs + this.#intervalMs());
    if (dueMs >= this.#dueMs) return;
    this.#disarm();
    this.#arm(dueMs - this.opts.clock.now());
  }

  #disarm(): void {
    if (this.#timer !== null) this.opts.clock.clearTimer(this.#timer);
    this.#timer = null;
    this.#dueMs = null;
  }

  #arm(delayMs: number): void {
    if (this.#stopped) return;
    this.#dueMs = this.opts.clock.now() + delayMs;
    this.#timer = this.opts.clock.setTimer(delayMs, () => {
      this.#timer = null;
      this.#dueMs = null;
      void this.#sweep();
    });
  }

  async #sweep(): Promise<void> {
    this.#lastSweepMs = this.opts.clock.now();
    if (this.#newcomerSweeps > 0) this.#newcomerSweeps--;
    let stall: TimerHandle | null = null;
    const watchStall = (): void => {
      stall = this.opts.clock.setTimer(SWEEP_STALL_MS, () => {
        this.opts.stalled?.();
        watchStall();
      });
    };
    watchStall();
    try {
      const pids = new Map(this.opts.pids());
      const found = await this.#sampler.sample(pids, (id, tree) => this.opts.adopt(id, pids.get(id) ?? 0, tree));
      const unreaped = this.#sampler.unreaped;
      if (unreaped.length > 0) {
        const mains = new Set(pids.values());
        this.opts.unreaped?.(unreaped.filter((pid) => mains.has(pid) && this.#unreaped.has(pid)));
      }
      this.#unreaped = new Set(unreaped);
      const samples: InstanceSample[] = [];
      for (const [id, s] of found) {
        samples.push({ id, pid: pids.get(id) ?? 0, cpuPercent: s.cpuPercent, rssBytes: s.rssBytes, ownCpuPercent: s.ownCpuPercent, ownRssBytes: s.ownRssBytes, processes: s.processes });
      }
      const host = await this.#host.sample(this.settings.diskPath);
      if (!this.#stopped) this.opts.post({ type: "ResourcesSampled", samples, host });
    } catch (err) {
      this.opts.onError(err as Error);
    } finally {
      if (stall !== null) this.opts.clock.clearTimer(stall);
      this.#arm(Math.max(0, this.#lastSweepMs + this.#intervalMs() - this.opts.clock.now()));
    }
  }
}

/** What in the manifest needs a sample every interval, whoever watches: SamplingSettings.fullPaceFor. */
export function fullPaceFor(m: {
  readonly services: readonly { readonly limits: unknown }[];
  readonly checks: { readonly disk: unknown; readonly cpu?: unknown; readonly memory?: unknown };
  readonly resources: { readonly intervalSet?: boolean };
}): string | null {
  const set = (v: unknown): boolean => v !== null && v !== undefined;
  if (m.services.some((c) => set(c.limits))) return "limits";
  if (set(m.checks.disk)) return "disk-check";
  if (set(m.checks.cpu) || set(m.checks.memory)) return "host-check";
  if (m.resources.intervalSet === true) return "interval-set";
  return null;
}
