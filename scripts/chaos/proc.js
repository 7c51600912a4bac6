// What runs of the stack, read from /proc: every process whose environment carries the run's marker
// (vigil up and everything it started, escaped daemons included), with its VIGIL_SERVICE and VIGIL_TOKEN.
import { readFileSync, readdirSync } from "node:fs";

/** state, ppid, pgid and start time (field 22) of pid; null when it is gone */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: f[0], ppid: Number(f[1]), pgid: Number(f[2]), startTime: Number(f[19]) };
}

/** a zombie (or a dead entry) has ended; PID 1 may be slow to reap the orphans it inherits */
export const isLive = (stat) => stat !== null && stat.state !== "Z" && stat.state !== "X" && stat.state !== "x";

function environ(pid) {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1");
  } catch {
    return null;
  }
}

function variable(env, key) {
  const prefix = `${key}=`;
  let start;
  if (env.startsWith(prefix)) start = prefix.length;
  else {
    const at = env.indexOf(`\0${prefix}`);
    if (at < 0) return null;
    start = at + 1 + prefix.length;
  }
  const end = env.indexOf("\0", start);
  return env.slice(start, end < 0 ? undefined : end);
}

const hasMarker = (env, marker) => env.startsWith(`${marker}\0`) || env.includes(`\0${marker}\0`) || env.endsWith(`\0${marker}`);

export function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").replace(/\0+$/, "").replaceAll("\0", " ").slice(0, 120);
  } catch {
    return "?";
  }
}

/**
 * Every live process carrying `marker` (NAME=VALUE): { pid, state, ppid, pgid, startTime, service, token }.
 * The environment is read before the stat, so a process seen live was live after its marker was read.
 */
export function scanMarked(marker) {
  const found = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const env = environ(pid);
    if (env === null || !hasMarker(env, marker)) continue;
    const stat = readStat(pid);
    if (!isLive(stat)) continue;
    found.push({ pid, ...stat, service: variable(env, "VIGIL_SERVICE"), token: variable(env, "VIGIL_TOKEN") });
  }
  return found;
}

/**
 * Signals pid only while it is still the process that was seen (same start time) and carries the marker:
 * the chaos never touches anything outside its own stack.
 */
export function signalSeen(proc, signal, marker) {
  const now = readStat(proc.pid);
  if (!isLive(now) || now.startTime !== proc.startTime) return false;
  const env = environ(proc.pid);
  if (env === null || !hasMarker(env, marker)) return false;
  try {
    process.kill(proc.pid, signal);
    return true;
  } catch {
    return false;
  }
}
