// PM2 for the benchmarks that compare with it: installed for the run into a temporary folder from the
// npm registry (a pinned version), run with a PM2_HOME of its own, its daemon ended by pid.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const PM2_VERSION = "7.0.4";

/** Installs pm2@PM2_VERSION under `dir`; returns the path of its command. */
export function installPm2(dir) {
  console.log(`installing pm2@${PM2_VERSION} into ${dir} …`);
  execFileSync("npm", ["install", "--prefix", dir, `pm2@${PM2_VERSION}`, "--no-audit", "--no-fund", "--loglevel=error"], { stdio: "inherit" });
  return join(dir, "node_modules", ".bin", "pm2");
}

/** SIGTERM, then SIGKILL after 5 s; resolves once pid is gone. */
export async function killPid(pid) {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const end = Date.now() + 5_000;
  while (Date.now() < end) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
}
