// The resource adapter: every `resources.interval`, one /proc sweep of every running child's process
// tree and a look at the host, reported to the loop (ResourcesSampled), which judges limits and the disk.
// One sweep at a time: the next is armed when one ends.
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { InstanceId } from "../../core/stack/ids.js";
import type { Input, InstanceSample } from "../../core/stack/inputs.js";
import type { ProcStat } from "../process/proc.js";
import { HostSampler } from "./host.js";
import { ResourceSampler, type ResourcePoint } from "./sampler.js";

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
}

export interface SamplingSettings {
  readonly intervalMs: number;
  /** the path whose disk is watched (checks.disk.path, else the state dir) */
  readonly diskPath: string;
}

export class Sampling {
  readonly #sampler: ResourceSampler;
  readonly #host = new HostSampler();
  #timer: TimerHandle | null = null;
  #stopped = true;

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
    if (this.#timer !== null) this.opts.clock.clearTimer(this.#timer);
    this.#timer = null;
    this.#sampler.close();
  }

  /** New settings from a reload take effect from the next sweep. */
  configure(settings: SamplingSettings): void {
    this.settings = settings;
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

  #arm(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.opts.clock.setTimer(delayMs, () => void this.#sweep());
  }

  async #sweep(): Promise<void> {
    try {
      const pids = new Map(this.opts.pids());
      const found = await this.#sampler.sample(pids, (id, tree) => this.opts.adopt(id, pids.get(id) ?? 0, tree));
      const samples: InstanceSample[] = [];
      for (const [id, s] of found) {
        samples.push({ id, pid: pids.get(id) ?? 0, cpuPercent: s.cpuPercent, rssBytes: s.rssBytes, ownCpuPercent: s.ownCpuPercent, ownRssBytes: s.ownRssBytes, processes: s.processes });
      }
      const host = await this.#host.sample(this.settings.diskPath);
      if (!this.#stopped) this.opts.post({ type: "ResourcesSampled", samples, host });
    } catch (err) {
      this.opts.onError(err as Error);
    } finally {
      this.#arm(this.settings.intervalMs);
    }
  }
}
