import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OUTPUT_LIMIT_BYTES, runCheck } from "../../../src/runtime/probes/checks.js";
import { readProcStat } from "../../../src/runtime/process/proc.js";

const ENV = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };

function isGone(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state === undefined || state === "Z" || state === "X";
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

function listen<T extends Server | HttpServer>(server: T): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server | HttpServer): Promise<void> {
  if ("closeAllConnections" in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("runCheck http", () => {
  const server = createHttpServer((req, res) => {
    if (req.url === "/ok") res.end("fine");
    else if (req.url === "/fail") res.writeHead(500).end("broken");
    else if (req.url === "/redirect") res.writeHead(302, { location: "/fail" }).end();
    else if (req.url === "/missing") res.writeHead(404).end();
    else if (req.url === "/sequence") {
      const step = sequenceStep++;
      if (step === 0) res.end("fine");
      else if (step === 1) res.writeHead(500).end();
      // from the third request on: no answer at all
    }
    // /hang: never answers
  });
  let sequenceStep = 0;
  let base = "";

  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => close(server));

  it("passes on 200, fails on 500, then times out on a server that stops answering", async () => {
    const check = { kind: "http", url: `${base}/sequence` } as const;
    expect(await runCheck(check, 1000, "/", ENV)).toMatchObject({ ok: true, detail: "HTTP 200" });
    expect(await runCheck(check, 1000, "/", ENV)).toMatchObject({ ok: false, detail: "HTTP 500" });
    const hung = await runCheck(check, 300, "/", ENV);
    expect(hung).toMatchObject({ ok: false, detail: "timeout after 300ms" });
    expect(hung.durationMs).toBeGreaterThanOrEqual(250);
    // the server never answers: any end well short of never is the timeout's (no bound on speed)
    expect(hung.durationMs).toBeLessThan(20_000);
  });

  it("counts a 302 as passing without following it", async () => {
    expect(await runCheck({ kind: "http", url: `${base}/redirect` }, 1000, "/", ENV)).toMatchObject({
      ok: true,
      detail: "HTTP 302",
    });
  });

  it("fails on a 404", async () => {
    expect(await runCheck({ kind: "http", url: `${base}/missing` }, 1000, "/", ENV)).toMatchObject({
      ok: false,
      detail: "HTTP 404",
    });
  });

  it("reports a timeout in whole seconds as the manifest writes it", async () => {
    const result = await runCheck({ kind: "http", url: `${base}/hang` }, 1000, "/", ENV);
    expect(result).toMatchObject({ ok: false, detail: "timeout after 1s" });
  });

  it("reports a refused connection by its code", async () => {
    const port = await freeClosedPort();
    expect(await runCheck({ kind: "http", url: `http://127.0.0.1:${port}/` }, 1000, "/", ENV)).toMatchObject({
      ok: false,
      detail: "ECONNREFUSED",
    });
  });

  it("fails an invalid url without throwing", async () => {
    const result = await runCheck({ kind: "http", url: "not a url" }, 1000, "/", ENV);
    expect(result.ok).toBe(false);
    expect(result.detail).not.toBe("");
  });
});

async function freeClosedPort(): Promise<number> {
  const server = createTcpServer();
  const port = await listen(server);
  await close(server);
  return port;
}

describe("runCheck tcp", () => {
  it("passes when the port accepts a connection", async () => {
    const server = createTcpServer((socket) => socket.destroy());
    const port = await listen(server);
    try {
      const result = await runCheck({ kind: "tcp", host: "127.0.0.1", port }, 1000, "/", ENV);
      expect(result).toMatchObject({ ok: true, detail: `connected to 127.0.0.1:${port}` });
    } finally {
      await close(server);
    }
  });

  it("fails with ECONNREFUSED on a closed port", async () => {
    const port = await freeClosedPort();
    expect(await runCheck({ kind: "tcp", host: "127.0.0.1", port }, 1000, "/", ENV)).toMatchObject({
      ok: false,
      detail: "ECONNREFUSED",
    });
  });
});

describe("runCheck exec", () => {
  let dir = "";
  const started: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-probe-"));
  });
  afterEach(() => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** the pids a probe script wrote to file, one a line */
  async function pidsIn(file: string): Promise<number[]> {
    const pids = (await readFile(file, "utf8")).split("\n").filter(Boolean).map(Number);
    started.push(...pids);
    return pids;
  }

  const exec = (argv: string[]) => ({ kind: "exec", argv, shell: false }) as const;

  it("passes on exit 0 and fails on any other exit", async () => {
    expect(await runCheck(exec(["true"]), 2000, dir, ENV)).toMatchObject({ ok: true, detail: "exit 0" });
    expect(await runCheck(exec(["false"]), 2000, dir, ENV)).toMatchObject({ ok: false, detail: "exit 1" });
    expect(await runCheck(exec(["sh", "-c", "exit 3"]), 2000, dir, ENV)).toMatchObject({ ok: false, detail: "exit 3" });
  });

  it("keeps the output in the detail, in the probe's cwd and env", async () => {
    const result = await runCheck(exec(["sh", "-c", 'echo "$GREETING from $(pwd)"; echo oops >&2; exit 2']), 2000, dir, {
      ...ENV,
      GREETING: "hello",
    });
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^exit 2: /);
    expect(result.detail).toContain(`hello from ${dir}`);
    expect(result.detail).toContain("oops");
  });

  it("keeps only the first KiB of a flood of output and still sees the exit", async () => {
    const result = await runCheck(exec(["sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x; exit 1"]), 5000, dir, ENV);
    expect(result.ok).toBe(false);
    expect(result.detail.startsWith("exit 1: xxx")).toBe(true);
    expect(result.detail.length).toBeLessThanOrEqual(OUTPUT_LIMIT_BYTES + 20);
    expect(result.detail.endsWith("…")).toBe(true);
  });

  it("fails a command that does not exist with a clear detail", async () => {
    const result = await runCheck(exec(["no-such-probe-command"]), 2000, dir, ENV);
    expect(result).toMatchObject({ ok: false, detail: 'cannot run "no-such-probe-command": ENOENT' });
  });

  it("fails in a cwd that does not exist with a clear detail", async () => {
    const result = await runCheck(exec(["true"]), 2000, join(dir, "missing"), ENV);
    expect(result.ok).toBe(false);
    expect(result.detail).toContain(`cannot run "true": The "cwd" option is invalid: ${join(dir, "missing")}`);
  });

  it("runs no shell unless the argv asks for one", async () => {
    const result = await runCheck(exec(["echo", "$HOME", "&&", "false"]), 2000, dir, { ...ENV, HOME: "/nowhere" });
    expect(result).toMatchObject({ ok: true, detail: "exit 0: $HOME && false" });
  });

  it("kills a hanging probe at its timeout, with everything it started", async () => {
    const pidFile = join(dir, "hang.pids");
    // ignores SIGTERM, has a grandchild in its group and one that left the group with setsid
    const script = `trap '' TERM; sleep 100 & echo $! >> ${pidFile}; setsid sleep 100 & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; wait`;
    const startedAt = Date.now();
    const result = await runCheck({ kind: "exec", argv: ["/bin/sh", "-c", script], shell: true }, 700, dir, ENV);
    const elapsedMs = Date.now() - startedAt;
    const pids = await pidsIn(pidFile);
    expect(result).toMatchObject({ ok: false, detail: "timeout after 700ms" });
    expect(elapsedMs).toBeGreaterThanOrEqual(690);
    // not after the 100 s its children would sleep: a bound on behaviour, not on speed (a loaded machine
    // took 1.5 s here, where a bound of 1.2 s failed)
    expect(elapsedMs).toBeLessThan(30_000);
    expect(pids).toHaveLength(3);
    expect(pids.filter((pid) => !isGone(pid))).toEqual([]);
  });

  it("ends what a passing probe left running in its group", async () => {
    const pidFile = join(dir, "leftover.pids");
    const result = await runCheck(exec(["sh", "-c", `sleep 100 & echo $! > ${pidFile}; exit 0`]), 5000, dir, ENV);
    expect(result).toMatchObject({ ok: true, detail: "exit 0" });
    // it did not wait for the 100 s sleeper it left
    expect(result.durationMs).toBeLessThan(30_000);
    const [sleeper] = await pidsIn(pidFile);
    await waitFor(() => isGone(sleeper!));
  });
});
