import type { Clock, TimerHandle } from "../../core/clock.js";
import { judgeDisk, type DiskLevel } from "../../core/disk-level.js";
import { formatBreach, judgeLimits, type LimitState } from "../../core/limits.js";
import type { DiskCheckConfig } from "../../manifest/types.js";
import type { Logger } from "../logger.js";
import type { Supervisor } from "../supervisor.js";
import { HostSampler, type HostStats } from "./host.js";
import { ResourceSampler, type ResourcePoint, type ServiceSample } from "./sampler.js";

export interface ResourceSettings {
  readonly intervalMs: number;
  readonly disk: DiskCheckConfig | null;
  readonly stateDir: string;
}

/**
 * Samples CPU and memory of every running child's process tree every `interval`, judges the limits,
 * and watches the host and its disk. One sweep at a time: the next is armed when one ends.
 */
export class ResourceMonitor {
  private readonly sampler: ResourceSampler;
  private readonly hostSampler = new HostSampler();
  private readonly latest = new Map<string, ServiceSample>();
  private readonly limitStates = new Map<string, LimitState>();
  private hostStats: HostStats | null = null;
  private diskLevel: DiskLevel = "ok";
  private timer: TimerHandle | null = null;
  private stopped = false;

  constructor(
    private readonly supervisor: Supervisor,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private settings: ResourceSettings,
    /** while file descriptors are scarce, /proc handles are opened for each sweep only */
    fds: { holdFiles(): boolean } = { holdFiles: () => true },
  ) {
    this.sampler = new ResourceSampler({ holdHandles: () => fds.holdFiles() });
    supervisor.on("exited", (name) => {
      this.latest.delete(name);
      this.limitStates.delete(name);
    });
    supervisor.on("removed", (name) => this.sampler.forget(name));
  }

  start(): void {
    this.stopped = false;
    this.arm(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.sampler.close();
  }

  /** New settings from a reload take effect from the next sweep. */
  configure(settings: ResourceSettings): void {
    this.settings = settings;
  }

  sample(name: string): ServiceSample | null {
    return this.latest.get(name) ?? null;
  }

  history(name: string): ResourcePoint[] {
    return this.sampler.history(name);
  }

  historyJson(name: string, isoOf: (atMs: number) => string): string {
    return this.sampler.historyJson(name, isoOf);
  }

  host(): HostStats | null {
    return this.hostStats;
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(delayMs, () => void this.sweep());
  }

  private async sweep(): Promise<void> {
    try {
      const pids = new Map<string, number>();
      for (const r of this.supervisor.runners.values()) if (r.status.pid !== null && r.status.state !== "stopping") pids.set(r.name, r.status.pid);
      const samples = await this.sampler.sample(pids, (name, tree) => this.supervisor.runners.get(name)?.adoptMembers(pids.get(name) ?? 0, tree));
      this.latest.clear();
      for (const [name, sample] of samples) {
        this.latest.set(name, sample);
        this.judge(name, sample);
      }
      this.hostStats = await this.hostSampler.sample(this.settings.disk?.path ?? this.settings.stateDir);
      this.judgeDisk();
      this.supervisor.emit("health");
    } catch (err) {
      this.logger.log("error", null, "sampling", `resource sampling failed: ${(err as Error).message}`);
    } finally {
      this.arm(this.settings.intervalMs);
    }
  }

  private judge(name: string, sample: ServiceSample): void {
    const r = this.supervisor.runners.get(name);
    const limits = r?.config.limits;
    if (!r || !limits) return;
    const { state, breach } = judgeLimits(this.limitStates.get(name), sample, limits);
    this.limitStates.set(name, state);
    if (!breach) return;
    const text = formatBreach(breach);
    this.logger.log("warn", name, "limit-breach", text, { kind: breach.kind, measured: breach.measured, limit: breach.limit, reason: breach.kind });
    // the failure line names the kind already: "cpu: 98.6% over limit 30% for 2.6s; restarting"
    r.dispatch({ type: "FailureDetected", reason: breach.kind, detail: text.slice(breach.kind.length + 1) });
  }

  private judgeDisk(): void {
    const check = this.settings.disk;
    const disk = this.hostStats?.disk;
    if (!check || !disk) return;
    const { level, event } = judgeDisk(this.diskLevel, disk.usedPercent, { warnPercent: check.warnPercent, criticalPercent: check.criticalPercent });
    this.diskLevel = level;
    if (!event) return;
    const where = `${disk.path} is ${disk.usedPercent.toFixed(1)}% full`;
    const msg = event.kind === "recovered" ? `disk back under ${event.thresholdPercent}%: ${where}` : `disk ${event.kind}: ${where} (threshold ${event.thresholdPercent}%)`;
    this.logger.log(event.kind === "critical" ? "error" : event.kind === "warn" ? "warn" : "info", null, "disk", msg, {
      level,
      kind: event.kind,
      usedPercent: disk.usedPercent,
      thresholdPercent: event.thresholdPercent,
    });
  }
}
