import { describe, expect, it } from "vitest";
import type { ServiceConfig } from "../../../src/manifest/types.js";
import { FdBudget } from "../../../src/runtime/state/fd-budget.js";
import { Gate } from "../../../src/runtime/state/gate.js";
import { FakeClock } from "../../support/fake-clock.js";

const service = (name: string, via: "ipc" | "socket" | null = null) =>
  ({ name, heartbeat: via === null ? null : { via, intervalMs: 1000, misses: 3, startupGraceMs: 0 } }) as unknown as ServiceConfig;
const services = (n: number) => Array.from({ length: n }, (_, i) => service(`s${i}`));

describe("FdBudget", () => {
  it("admits every spawn and holds files while the limit is ample, and has nothing to say", () => {
    const budget = new FdBudget(20_000, () => 30);
    budget.measureOwn();
    expect(budget.plan(services(50))).toBeNull();
    expect(budget.holdFiles()).toBe(true);
    expect(budget.admitSpawn(service("a"))).toBeNull();
  });

  it("warns once when the limit is small for the stack, naming the limit, the need and how to raise it", () => {
    const budget = new FdBudget(128, () => 22);
    budget.measureOwn();
    const warning = budget.plan(services(50));
    expect(warning).toBe(
      "the open-file limit is 128, and 50 services need about 190 descriptors (22 for vigil itself, 3 to 7 a service, 16 kept free): " +
        "some may not start; raise it (ulimit -n 1024 before vigil up, or LimitNOFILE= in a systemd unit)",
    );
    expect(budget.holdFiles()).toBe(false);
    expect(budget.plan(services(51))).toBeNull();
  });

  it("refuses a spawn that would eat into the reserve, counting the spawns of one turn together", async () => {
    let open = 100;
    const budget = new FdBudget(128, () => open);
    budget.plan(services(50));
    // 100 open + 3 for the child + 16 kept free ≤ 128, then 103, 106 and 109 + 19 ≤ 128, but 112 + 19 > 128
    const answers = ["a", "b", "c", "d", "e"].map((name) => budget.admitSpawn(service(name)));
    expect(answers.slice(0, 4)).toEqual([null, null, null, null]);
    expect(answers[4]).toBe("too few file descriptors (EMFILE): 112 of the 128 allowed (ulimit -n) are open, and vigil keeps 16 free for itself");
    // a later turn counts again: descriptors were freed meanwhile
    await Promise.resolve();
    open = 90;
    expect(budget.admitSpawn(service("e", "ipc"))).toBeNull();
  });

  it("refuses a spawn when not even /proc/self/fd can be listed", () => {
    const budget = new FdBudget(128, () => null);
    budget.plan(services(50));
    expect(budget.admitSpawn(service("a"))).toMatch(/^too few file descriptors/);
  });

  it("while descriptors are scarce, says once when next to none are left, and once when some are back", () => {
    let open = 100;
    const clock = new FakeClock();
    const budget = new FdBudget(128, () => open);
    budget.plan(services(50));
    const said: string[] = [];
    const stop = budget.watchUsage(clock, { exhausted: (m) => said.push(m), relieved: () => said.push("relieved") }, 1000);
    clock.advance(1000);
    expect(said).toEqual([]);
    open = 124;
    clock.advance(3000);
    expect(said).toEqual(["only 4 of the 128 file descriptors allowed (ulimit -n) are left: connections to vigil's sockets and writes of its files may fail"]);
    // not yet over: still inside the reserve
    open = 115;
    clock.advance(1000);
    expect(said).toHaveLength(1);
    open = 100;
    clock.advance(1000);
    expect(said.at(-1)).toBe("relieved");
    stop();
    expect(clock.pending()).toBe(0);
  });

  it("arms no timer while descriptors are plenty, and one once a new plan makes them scarce", () => {
    const clock = new FakeClock();
    const budget = new FdBudget(20_000, () => 100);
    budget.plan(services(5));
    const stop = budget.watchUsage(clock, { exhausted: () => undefined, relieved: () => undefined }, 1000);
    expect(clock.pending()).toBe(0);
    budget.plan(services(5_000));
    expect(clock.pending()).toBe(1);
    stop();
    expect(clock.pending()).toBe(0);
  });

  it("counts nothing while descriptors are plenty", () => {
    let counted = 0;
    const budget = new FdBudget(20_000, () => ++counted);
    budget.plan(services(5));
    const before = counted;
    budget.checkUsage({ exhausted: () => undefined, relieved: () => undefined });
    expect(counted).toBe(before);
  });

  it("has nothing to plan without a limit", () => {
    const budget = new FdBudget(null, () => 10);
    expect(budget.plan(services(5000))).toBeNull();
    expect(budget.admitSpawn(service("a"))).toBeNull();
  });
});

describe("Gate", () => {
  it("runs at most its slots at a time, the others in order", async () => {
    const gate = new Gate(2);
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const runs = [0, 1, 2, 3].map((i) =>
      gate.run(async () => {
        started.push(i);
        await new Promise<void>((resolve) => releases.push(resolve));
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    releases[0]!();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    releases[1]!();
    releases[2]!();
    await new Promise((r) => setImmediate(r));
    releases[3]!();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
  });

  it("frees the slot of a task that fails", async () => {
    const gate = new Gate(1);
    await expect(gate.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await gate.run(() => Promise.resolve("next"))).toBe("next");
  });
});
