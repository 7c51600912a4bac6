// One pass over /proc that returns every process with its CPU ticks and RSS, for the resource sampler.
// Opening a /proc file costs more than reading it, so the descriptors of the processes being watched
// stay open between sweeps and are re-read with pread; a descriptor of a process that has died reads
// ESRCH and is closed, so a reused pid never reads as the old process.
import { closeSync, openSync, readSync } from "node:fs";
import { listPids, type ProcStat } from "../process/proc.js";
import { TimeSlice } from "../time-slice.js";

export interface ProcUsage extends ProcStat {
  /** utime + stime, in clock ticks */
  readonly cpuTicks: number;
  /** cutime + cstime: the ticks of children it has reaped */
  readonly reapedCpuTicks: number;
  readonly rssPages: number;
}

const SPACE = 0x20;
const CLOSE_PAREN = 0x29;

/**
 * Parses the bytes of /proc/PID/stat without making strings (a sweep parses thousands); null when
 * malformed. Fields are numbered as in proc(5): 1 pid, 2 (comm), 3 state, 4 ppid, …
 */
export function parseProcUsage(bytes: Uint8Array, length = bytes.length): ProcUsage | null {
  // comm may hold spaces and parens, so fields 3 onwards start after the last ')'
  let close = length - 1;
  while (close > 0 && bytes[close] !== CLOSE_PAREN) close--;
  if (close <= 0 || bytes[close + 1] !== SPACE || close + 2 >= length) return null;
  let at = close + 2;
  const state = String.fromCharCode(bytes[at]!);
  field.fill(NaN);
  field[1] = leadingInteger(bytes, 0, length);
  for (let n = 3; n <= LAST_FIELD && at < length; n++) {
    if (n >= 4) field[n] = leadingInteger(bytes, at, length);
    while (at < length && bytes[at] !== SPACE) at++;
    at++;
  }
  for (const n of WANTED_FIELDS) {
    if (!Number.isSafeInteger(field[n])) return null;
  }
  return {
    pid: field[1]!,
    state,
    ppid: field[4]!,
    pgid: field[5]!,
    session: field[6]!,
    cpuTicks: field[14]! + field[15]!,
    reapedCpuTicks: field[16]! + field[17]!,
    startTime: field[22]!,
    rssPages: field[24]!,
  };
}

// field[n] is field n of the line being parsed: 1 pid, 4 ppid, 5 pgrp, 6 session, 14 utime, 15 stime, 16 cutime,
// 17 cstime, 22 starttime, 24 rss
const LAST_FIELD = 24;
const WANTED_FIELDS = [1, 4, 5, 6, 14, 15, 16, 17, 22, 24] as const;
const field = new Float64Array(LAST_FIELD + 1);

/** The decimal integer (optionally negative) that starts at `at`; NaN when none does. */
function leadingInteger(bytes: Uint8Array, at: number, length: number): number {
  const negative = bytes[at] === 0x2d;
  let i = negative ? at + 1 : at;
  let value = 0;
  let digits = 0;
  for (; i < length; i++, digits++) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
  }
  if (digits === 0) return NaN;
  return negative ? -value : value;
}

// comm is at most 16 bytes, so a stat line is a few hundred bytes
const STAT_MAX_BYTES = 1024;

export class ProcTable {
  /** pid → its open descriptor, and the sweep that last found the pid in /proc */
  readonly #open = new Map<number, { readonly fd: number; sweep: number }>();
  #sweep = 0;
  readonly #buffer = Buffer.allocUnsafe(STAT_MAX_BYTES);

  /**
   * Every process now in /proc, zombies included; a process that vanishes mid-sweep is left out, and
   * the descriptor of one no longer listed is closed. The event loop gets a turn after every `turnMs`
   * of reading.
   */
  async scan(turnMs = Infinity): Promise<ProcUsage[]> {
    const pids = listPids();
    // /proc holds at least this process: none means it could not be read, which proves nothing gone
    if (pids.length === 0) return [];
    const sweep = ++this.#sweep;
    const found: ProcUsage[] = [];
    // reading 1,250 processes takes 10–20 ms, too long to hold back a heartbeat deadline or an exit
    const slice = new TimeSlice(turnMs);
    for (const pid of pids) {
      if (slice.over) await slice.next();
      const usage = this.#read(pid, sweep);
      if (usage) found.push(usage);
    }
    for (const [pid, open] of this.#open) {
      if (open.sweep !== sweep) this.#close(pid, open.fd);
    }
    return found;
  }

  /** Keeps descriptors open for exactly these pids (opening the new ones) and closes the rest. */
  watch(pids: { has(pid: number): boolean; keys(): Iterable<number> }): void {
    for (const [pid, open] of this.#open) {
      if (!pids.has(pid)) this.#close(pid, open.fd);
    }
    for (const pid of pids.keys()) {
      if (this.#open.has(pid)) continue;
      try {
        this.#open.set(pid, { fd: openSync(`/proc/${pid}/stat`, "r"), sweep: this.#sweep });
      } catch {
        // gone, or out of descriptors: it is read the slow way next time
      }
    }
  }

  /** How many descriptors are held. */
  get watched(): number {
    return this.#open.size;
  }

  close(): void {
    for (const [pid, open] of this.#open) this.#close(pid, open.fd);
  }

  #read(pid: number, sweep: number): ProcUsage | null {
    const open = this.#open.get(pid);
    if (open !== undefined) {
      try {
        const usage = this.#parse(readSync(open.fd, this.#buffer, 0, STAT_MAX_BYTES, 0));
        open.sweep = sweep;
        return usage;
      } catch {
        // that process has died; the pid in /proc may already be another one
        this.#close(pid, open.fd);
      }
    }
    let once: number;
    try {
      once = openSync(`/proc/${pid}/stat`, "r");
    } catch {
      return null;
    }
    try {
      return this.#parse(readSync(once, this.#buffer, 0, STAT_MAX_BYTES, 0));
    } catch {
      return null;
    } finally {
      closeSync(once);
    }
  }

  #parse(bytes: number): ProcUsage | null {
    return parseProcUsage(this.#buffer, bytes);
  }

  #close(pid: number, fd: number): void {
    this.#open.delete(pid);
    try {
      closeSync(fd);
    } catch {}
  }
}

let pageBytesCache: number | undefined;

/** The kernel page size, from the first mapping in /proc/self/smaps; 4096 when that cannot be read. */
export function kernelPageBytes(): number {
  if (pageBytesCache !== undefined) return pageBytesCache;
  pageBytesCache = 4096;
  try {
    const fd = openSync("/proc/self/smaps", "r");
    try {
      const buffer = Buffer.alloc(64 * 1024);
      const text = buffer.toString("latin1", 0, readSync(fd, buffer, 0, buffer.length, 0));
      // the smallest page size of any mapping is the base page (huge-page mappings report larger ones)
      const sizes = [...text.matchAll(/KernelPageSize:\s+(\d+) kB/g)].map((m) => Number(m[1]) * 1024).filter((n) => n >= 4096);
      if (sizes.length > 0) pageBytesCache = Math.min(...sizes);
    } finally {
      closeSync(fd);
    }
  } catch {}
  return pageBytesCache;
}
