// What the A/B benches (beats-ab, probes-ab) share: another revision built in a worktree of its own, the
// two trees named, and the CPU of several processes read from /proc over the same windows. On a shared
// machine a process's CPU moves by a quarter from one minute to the next; measured at the same moments,
// the processes share whatever the machine does, and each window gives one comparison.
import { execFileSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ROOT } from "./lib.js";
import { cpuTicks } from "./scale-lib.js";

export function git(...args) {
  return execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8" }).trim();
}

/**
 * The revision `base` checked out into DIR/base, with this tree's node_modules, and built; removed by
 * removeBase. Returns the two trees to compare, base first: { name, root }.
 */
export function baseAndThisTree(dir, base) {
  const tree = join(dir, "base");
  git("worktree", "add", "--detach", "--force", tree, base);
  symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"));
  execFileSync("npm", ["run", "build"], { cwd: tree, stdio: ["ignore", "ignore", "inherit"] });
  const changed = git("status", "--porcelain", "--untracked-files=no") ? "+changes" : "";
  return [
    { name: `base (${git("rev-parse", "--short", base)})`, root: tree },
    { name: `this tree (${git("rev-parse", "--short", "HEAD")}${changed})`, root: ROOT },
  ];
}

export function removeBase(dir) {
  git("worktree", "remove", "--force", join(dir, "base"));
}

/** per window, each pid's CPU in percent of a core (clock ticks are 1/100 s: ticks a second are percent) */
export async function cpuWindows(pids, rounds, windowS) {
  const windows = [];
  for (let w = 0; w < rounds; w++) {
    const before = pids.map(cpuTicks);
    const t0 = performance.now();
    await sleep(windowS * 1000);
    const s = (performance.now() - t0) / 1000;
    windows.push(pids.map((pid, i) => (cpuTicks(pid) - before[i]) / s));
  }
  return windows;
}

/** the mean of column i over the windows */
export function meanOf(windows, i) {
  return windows.reduce((a, w) => a + w[i], 0) / windows.length;
}
