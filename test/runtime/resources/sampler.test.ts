import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { isAlive } from "../../../src/runtime/process/proc.js";
import type { ProcUsage } from "../../../src/runtime/resources/proc-table.js";
import { ResourceSampler, type ServiceSample } from "../../../src/runtime/resources/sampler.js";
import { processes } from "../../../src/runtime/process/table.js";

/** ps shows neither what a process reaped (cutime) nor holds descriptors: those tests are /proc's own */
const PORTABLE = processes().backend === "portable";

const MiB = 1024 * 1024;
const started: number[] = [];
const samplers: ResourceSampler[] = [];

/** Starts a command in its own process group; afterEach kills the group by the leader's pid. */
function start(argv: readonly string[]): number {
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: "ignore" });
  if (child.pid === undefined) throw new Error(`could not start ${argv[0]}`);
  started.push(child.pid);
  return child.pid;
}

function sampler(options: ConstructorParameters<typeof ResourceSampler>[0] = {}): ResourceSampler {
  const s = new ResourceSampler(options);
  samplers.push(s);
  return s;
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(50);
  }
}

/** Samples every intervalMs until one sample satisfies ok; every sample seen is returned. */
async function sampleUntil(
  s: ResourceSampler,
  pids: ReadonlyMap<string, number>,
  service: string,
  ok: (sample: ServiceSample) => boolean,
  intervalMs = 1000,
): Promise<ServiceSample[]> {
  const seen: ServiceSample[] = [];
  await waitFor(async () => {
    const sample = (await s.sample(pids)).get(service);
    if (sample) seen.push(sample);
    if (sample && ok(sample)) return true;
    await sleep(intervalMs);
    return undefined;
  }, 15_000);
  return seen;
}

afterEach(async () => {
  for (const s of samplers.splice(0)) s.close();
  const pids = started.splice(0);
  for (const pid of pids) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
  await waitFor(() => (pids.every((pid) => !isAlive(pid)) ? true : undefined));
});

const NODE = process.execPath;
const SPIN = `${NODE} -e "for(;;){}"`;

describe("ResourceSampler on real processes", () => {
  it("sums memory over the tree: a shell wrapper's child holds the memory", async () => {
    const wrapper = start(["sh", "-c", `${NODE} -e "const b=Buffer.alloc(200*1024*1024,1); setInterval(()=>{},1000)"; exit 0`]);
    const s = sampler();
    const pids = new Map([["api", wrapper]]);
    const [sample] = (await sampleUntil(s, pids, "api", (x) => x.rssBytes >= 150 * MiB, 100)).slice(-1);
    expect(sample!.rssBytes).toBeGreaterThanOrEqual(150 * MiB);
    expect(sample!.ownRssBytes).toBeLessThan(10 * MiB);
    expect(sample!.processes).toBe(2);
  });

  it("reports cpu as unknown on the first sample and a spinner's core from the second on", async () => {
    const spinner = start(["sh", "-c", `exec ${SPIN}`]);
    const s = sampler();
    const pids = new Map([["spin", spinner]]);
    const first = (await s.sample(pids)).get("spin");
    expect(first?.cpuPercent).toBeNull();
    expect(first?.ownCpuPercent).toBeNull();
    await sleep(1000);
    // a spinner takes what it is given: a whole core on a quiet machine, a share of one beside other work
    const seen = await sampleUntil(s, pids, "spin", (x) => x.cpuPercent !== null && x.cpuPercent >= 20);
    for (const later of seen) {
      expect(later.cpuPercent).not.toBeNull();
      expect(later.ownCpuPercent).toBe(later.cpuPercent);
    }
  });

  it("counts a wrapped spinner in the tree's cpu, not in the wrapper's own", async () => {
    const wrapper = start(["sh", "-c", `${SPIN}; exit 0`]);
    const s = sampler();
    const pids = new Map([["spin", wrapper]]);
    await s.sample(pids);
    await sleep(1000);
    const seen = await sampleUntil(s, pids, "spin", (x) => x.cpuPercent !== null && x.cpuPercent >= 20);
    expect(seen.at(-1)!.ownCpuPercent).toBeLessThan(5);
  });

  it.skipIf(PORTABLE)("counts the cpu of short-lived children that came and went between two sweeps", async () => {
    // each child spins 150 ms and is reaped by the shell; their time shows in the shell's cutime
    const busy = `${NODE} -e "const t=Date.now(); while(Date.now()-t<150){}"`;
    const wrapper = start(["sh", "-c", `while :; do ${busy}; done`]);
    const s = sampler();
    const pids = new Map([["cron", wrapper]]);
    await s.sample(pids);
    await sleep(1000);
    // alone, the shell would show about 0 %; its children spin all the time they are given, which on a
    // busy machine (other tests, a CPU hog beside the suite) is well under a whole core
    await sampleUntil(s, pids, "cron", (x) => x.cpuPercent !== null && x.cpuPercent >= 10);
  });

  it("leaves out a service whose pid is gone, and samples the others", async () => {
    const gone = spawn("true", { stdio: "ignore" });
    await new Promise((resolve) => gone.on("exit", resolve));
    await waitFor(() => (isAlive(gone.pid!) ? undefined : true));
    const alive = start(["sleep", "600"]);
    const s = sampler();
    const result = await s.sample(new Map([["gone", gone.pid!], ["alive", alive]]));
    expect(result.has("gone")).toBe(false);
    expect(result.get("alive")?.processes).toBe(1);
    expect(s.history("gone")).toEqual([]);
  });

  it("keeps sweeping while processes appear and vanish under it", async () => {
    const churn = start(["sh", "-c", "while :; do /bin/true; done"]);
    const steady = start(["sleep", "600"]);
    const s = sampler();
    const pids = new Map([["churn", churn], ["steady", steady]]);
    // ps (the portable table) takes tens of milliseconds a sweep: fewer sweeps see the churn as well
    for (let i = 0; i < (PORTABLE ? 25 : 100); i++) {
      const result = await s.sample(pids);
      expect(result.get("steady")?.processes).toBe(1);
      expect(result.get("churn")?.processes).toBeGreaterThanOrEqual(1);
    }
  });

  it("keeps the last 60 samples of a service, oldest first, until it is forgotten", async () => {
    const pid = start(["sleep", "600"]);
    let t = 0;
    const s = sampler({ now: () => ++t });
    for (let i = 0; i < 65; i++) await s.sample(new Map([["a", pid]]));
    const history = s.history("a");
    expect(history).toHaveLength(60);
    expect(history[0]!.atMs).toBe(6);
    expect(history[59]!.atMs).toBe(65);
    s.forget("a");
    expect(s.history("a")).toEqual([]);
  });

  it.skipIf(PORTABLE)("holds descriptors only for live processes it watches", async () => {
    const fds = () => readdirSync("/proc/self/fd").length;
    const s = sampler();
    await s.sample(new Map()); // let the sampler settle its own one-off reads
    const before = fds();
    const pids = Array.from({ length: 5 }, () => start(["sleep", "600"]));
    await s.sample(new Map(pids.map((pid, i) => [`s${i}`, pid])));
    expect(fds()).toBe(before + 5);
    for (const pid of pids) process.kill(-pid, "SIGKILL");
    await waitFor(() => (pids.every((pid) => !isAlive(pid)) ? true : undefined));
    await s.sample(new Map(pids.map((pid, i) => [`s${i}`, pid])));
    expect(fds()).toBe(before);
  });
});

describe("ResourceSampler tree accounting", () => {
  const HZ = 100;
  let table: ProcUsage[] = [];
  let nowMs = 0;
  const proc = (pid: number, ppid: number, cpuTicks: number, extra: Partial<ProcUsage> = {}): ProcUsage => ({
    pid,
    ppid,
    pgid: 100,
    state: "S",
    startTime: pid * 10,
    cpuTicks,
    reapedCpuTicks: 0,
    rssPages: 100,
    ...extra,
  });
  const fake = () => sampler({ readTable: () => table, now: () => nowMs, ticksPerSecond: HZ, pageBytes: 4096 });
  const sweep = async (s: ResourceSampler, atMs: number, rows: ProcUsage[]) => {
    nowMs = atMs;
    table = rows;
    return (await s.sample(new Map([["svc", 100]]))).get("svc");
  };

  it("does not count twice the ticks of a child that was sampled and then reaped", async () => {
    const s = fake();
    await sweep(s, 0, [proc(100, 1, 10), proc(101, 100, 50)]);
    // 101 ran 30 more ticks, exited and was reaped: its 80 ticks are now in 100's cutime
    const after = await sweep(s, 1000, [proc(100, 1, 10, { reapedCpuTicks: 80 })]);
    expect(after?.cpuPercent).toBe(30);
    expect(after?.ownCpuPercent).toBe(0);
  });

  it("counts all ticks of a child born since the last sweep", async () => {
    const s = fake();
    await sweep(s, 0, [proc(100, 1, 10)]);
    const after = await sweep(s, 2000, [proc(100, 1, 20), proc(102, 100, 30)]);
    expect(after?.cpuPercent).toBe(20); // (10 + 30) ticks = 400 ms in 2 s
    expect(after?.processes).toBe(2);
    expect(after?.rssBytes).toBe(2 * 100 * 4096);
  });

  it("lets a child that left the tree alive take its ticks along", async () => {
    const s = fake();
    await sweep(s, 0, [proc(100, 1, 10), proc(101, 100, 50)]);
    // 101's parent link now points at init: it is no longer the service's
    const after = await sweep(s, 1000, [proc(100, 1, 15), proc(101, 1, 90)]);
    expect(after?.cpuPercent).toBe(5);
    expect(after?.processes).toBe(1);
  });

  it("counts a zombie's ticks but not its memory", async () => {
    const s = fake();
    await sweep(s, 0, [proc(100, 1, 10), proc(101, 100, 50)]);
    const after = await sweep(s, 1000, [proc(100, 1, 10), proc(101, 100, 60, { state: "Z", rssPages: 0 })]);
    expect(after?.cpuPercent).toBe(10);
    expect(after?.processes).toBe(1);
  });

  it("names the children of this process that exited and were never reaped (a lost SIGCHLD), and no other", async () => {
    const s = sampler({ readTable: () => table, now: () => nowMs, ticksPerSecond: HZ, pageBytes: 4096, selfPid: 1 });
    const mains = new Map([["a", 100], ["b", 200], ["c", 300]]);
    nowMs = 0;
    // a: a zombie of ours; b: a zombie of another parent (an adopted process); c: running; 400: a
    // zombie of ours that is no service's main process (a probe's command); 301: c's zombie child
    table = [proc(100, 1, 10, { state: "Z" }), proc(200, 7, 10, { state: "Z" }), proc(300, 1, 10), proc(400, 1, 0, { state: "Z" }), proc(301, 300, 0, { state: "Z" })];
    const found = await s.sample(mains);
    expect(s.unreaped).toEqual([100, 400]);
    expect([...found.keys()]).toEqual(["c"]);
    // reaped since: gone from the table, and from the list
    table = [proc(300, 1, 10)];
    await s.sample(mains);
    expect(s.unreaped).toEqual([]);
  });

  it("starts over when the main pid is another process", async () => {
    const s = fake();
    await sweep(s, 0, [proc(100, 1, 10)]);
    const after = await sweep(s, 1000, [proc(100, 1, 10, { startTime: 99_999 })]);
    expect(after?.cpuPercent).toBeNull();
  });
});
