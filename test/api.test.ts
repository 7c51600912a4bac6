import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSupervisor, type VigilSupervisor } from "../src/index.js";
import { isRunning, waitUntil } from "./support/stack.js";

let running: VigilSupervisor | null = null;
let dir = "";
afterEach(async () => {
  await running?.stop();
  running = null;
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("createSupervisor", () => {
  it("runs a stack given as an object, with typed events, control and status", async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-api-"));
    const vigil = createSupervisor(
      {
        version: 1,
        services: {
          db: { command: "sleep 300" },
          app: { command: ["sh", "-c", "exec sleep 300"], depends_on: ["db"] },
        },
      },
      { baseDir: dir },
    );
    running = vigil;
    const spawned: string[] = [];
    vigil.on("spawn", ({ name }) => spawned.push(name));
    const states: string[] = [];
    vigil.on("state", ({ name, state }) => states.push(`${name}:${state}`));
    await vigil.start();
    await waitUntil(() => vigil.status().services.every((s) => s.state === "running"), "both running");
    expect(spawned).toEqual(["db", "app"]);
    expect(states).toContain("app:running");

    const before = vigil.status("app").services[0]!;
    await vigil.restart("app");
    await waitUntil(() => {
      const now = vigil.status("app").services[0]!;
      return now.state === "running" && now.pid !== before.pid;
    }, "app restarted");
    expect(vigil.status("app").services[0]!.last_exit?.reason).toBe("manual");
    expect(isRunning(before.pid!)).toBe(false);

    await vigil.stop("db");
    await waitUntil(() => vigil.status("db").services[0]!.state === "stopped", "db held down");
    expect(() => vigil.status("nope")).toThrow(/unknown service nope \(known: db, app\)/);

    const pids = vigil.status().services.map((s) => s.pid).filter((p): p is number => p !== null);
    const stopped = new Promise<void>((r) => vigil.once("stopped", r));
    await vigil.stop();
    await stopped;
    running = null;
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
  });

  it("restarts a crashing child at once with backoff 0, each exit once, until the crash loop is fatal", async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-api-"));
    const vigil = createSupervisor(
      {
        version: 1,
        services: {
          crash: { command: ["sh", "-c", "exit 3"], restart: { policy: "always", max_restarts: 5, window: "1m", backoff: { initial: 0 } } },
        },
      },
      { baseDir: dir },
    );
    running = vigil;
    const pids: number[] = [];
    vigil.on("spawn", ({ pid }) => pids.push(pid));
    await vigil.start();
    await waitUntil(() => vigil.status("crash").services[0]!.state === "fatal", "crash loop declared fatal");
    const crash = vigil.status("crash").services[0]!;
    expect(crash.restarts).toBe(5);
    expect(crash.last_exit?.code).toBe(3);
    // the first spawn and five restarts, each a process of its own, all gone
    expect(new Set(pids).size).toBe(6);
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
  });

  it("gives a child the program's environment as it is at the spawn, a variable set after the start included", async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-api-"));
    const marks = join(dir, "marks");
    const vigil = createSupervisor(
      { version: 1, services: { m: { command: ["sh", "-c", `(printenv VIGIL_TEST_MARK || echo unset) >> ${marks}; exec sleep 300`] } } },
      { baseDir: dir },
    );
    running = vigil;
    const lines = async (): Promise<string[]> => (await readFile(marks, "utf8").catch(() => "")).split("\n").filter(Boolean);
    try {
      await vigil.start();
      await waitUntil(async () => (await lines()).length === 1, "the first child's line");
      process.env["VIGIL_TEST_MARK"] = "set later";
      await vigil.restart("m");
      await waitUntil(async () => (await lines()).length === 2, "the second child's line");
      expect(await lines()).toEqual(["unset", "set later"]);
    } finally {
      delete process.env["VIGIL_TEST_MARK"];
    }
  });

  it("rejects an invalid manifest with the problems, starting nothing", async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-api-"));
    const vigil = createSupervisor({ version: 1, services: { a: { command: "x", restrat: {} } } } as never, { baseDir: dir });
    await expect(vigil.start()).rejects.toThrow(/services\.a\.restrat: unknown key "restrat", did you mean "restart"\?/);
  });
});
