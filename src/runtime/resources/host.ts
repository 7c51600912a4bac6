// The host's CPU, memory and the disk that holds a path, for the status document and metrics.
import { statfs } from "node:fs/promises";
import { cpus, freemem, loadavg, totalmem } from "node:os";

export interface DiskUsage {
  readonly path: string;
  readonly totalBytes: number;
  readonly usedBytes: number;
  /** as df shows it: used / (used + available to unprivileged users) */
  readonly usedPercent: number;
}

export interface HostStats {
  /** 0..100 of all cores together, since the previous sample (since boot on the first) */
  readonly cpuPercent: number;
  readonly cores: number;
  readonly loadAvg: readonly [number, number, number];
  readonly memTotalBytes: number;
  /** MemAvailable: what can be allocated without swapping */
  readonly memAvailableBytes: number;
  /** null when the path cannot be examined */
  readonly disk: DiskUsage | null;
}

interface CpuTimes {
  readonly busyMs: number;
  readonly totalMs: number;
}

/** Keeps the previous CPU times, so that each sample covers the time since the one before. */
export class HostSampler {
  #previous: CpuTimes = { busyMs: 0, totalMs: 0 };

  async sample(diskPath: string): Promise<HostStats> {
    const cores = cpus();
    const times = sumTimes(cores);
    const totalMs = times.totalMs - this.#previous.totalMs;
    const busyMs = times.busyMs - this.#previous.busyMs;
    this.#previous = times;
    const [one = 0, five = 0, fifteen = 0] = loadavg();
    return {
      cpuPercent: totalMs > 0 ? Math.round((Math.max(0, busyMs) / totalMs) * 1000) / 10 : 0,
      cores: cores.length,
      loadAvg: [one, five, fifteen],
      memTotalBytes: totalmem(),
      memAvailableBytes: freemem(),
      disk: await diskUsage(diskPath),
    };
  }
}

const shared = new HostSampler();

/** The host now; CPU since the previous call in this process. */
export function hostStats(diskPath: string): Promise<HostStats> {
  return shared.sample(diskPath);
}

export async function diskUsage(path: string): Promise<DiskUsage | null> {
  try {
    const s = await statfs(path);
    const totalBytes = s.blocks * s.bsize;
    const usedBytes = (s.blocks - s.bfree) * s.bsize;
    const usableBytes = usedBytes + s.bavail * s.bsize;
    const usedPercent = usableBytes > 0 ? Math.round((usedBytes / usableBytes) * 1000) / 10 : 0;
    return { path, totalBytes, usedBytes, usedPercent };
  } catch {
    return null;
  }
}

function sumTimes(cores: ReturnType<typeof cpus>): CpuTimes {
  let busyMs = 0;
  let totalMs = 0;
  for (const { times } of cores) {
    const busy = times.user + times.nice + times.sys + times.irq;
    busyMs += busy;
    totalMs += busy + times.idle;
  }
  return { busyMs, totalMs };
}
