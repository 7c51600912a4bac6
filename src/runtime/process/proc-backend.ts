// The Linux backend of the process table: /proc read directly, as fast as it goes (proc.ts for one
// process, proc-snapshot.ts for trees, token-scan.ts for environments, resources/proc-table.ts for sweeps).
import { envVarOf, listPids, readProcStat, scanProcesses } from "./proc.js";
import { pidsSnapshot, treeSnapshot } from "./proc-snapshot.js";
import { readCommandLine, readEnvironToken } from "./token-scan.js";
import { kernelPageBytes, ProcTable } from "../resources/proc-table.js";
import type { ProcessTable } from "./table.js";

let table: ProcessTable | null = null;

export function procTable(): ProcessTable {
  table ??= {
    backend: "proc",
    startClock: "ticks",
    readsEnvironment: true,
    list: () => scanProcesses(),
    read: readProcStat,
    pids: listPids,
    tree: treeSnapshot,
    only: pidsSnapshot,
    envOf(pids, name) {
      const found = new Map<number, string>();
      for (const pid of pids === "all" ? listPids() : pids) {
        const value = name === "VIGIL_TOKEN" ? readEnvironToken(pid) : envVarOf(pid, name);
        if (value !== null) found.set(pid, value);
      }
      return found;
    },
    commandLine: readCommandLine,
    commandLines: (pids) => new Map(pids.map((pid) => [pid, readCommandLine(pid)])),
    usageReader() {
      const reader = new ProcTable();
      return {
        scan: (turnMs) => reader.scan(turnMs),
        watch: (pids) => reader.watch(pids),
        close: () => reader.close(),
        pageBytes: kernelPageBytes(),
        // USER_HZ: 100 on every Linux architecture Node runs on
        ticksPerSecond: 100,
      };
    },
  };
  return table;
}
