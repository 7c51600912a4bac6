import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HeartbeatServer, killStarted, runScript, waitFor, type ScriptProcess } from "../client/heartbeat-server.js";

const BEAT = pathToFileURL(resolve(import.meta.dirname, "../../dist/cli/beat.js")).href;

// what src/cli/main.ts does with the command's result, without depending on its wiring
const RUN_BEAT = `
import { beatCommand } from ${JSON.stringify(BEAT)};
try {
  await beatCommand(JSON.parse(process.env.BEAT_OPTIONS));
} catch (err) {
  process.stderr.write(err.message + "\\n");
  process.exitCode = err.exitCode ?? 70;
}
`;

let dir: string;
let socketPath: string;
let server: HeartbeatServer | null = null;

function beat(options: object, env: Record<string, string> = vigilEnv()): ScriptProcess {
  return runScript(RUN_BEAT, { ...env, BEAT_OPTIONS: JSON.stringify(options) }, { stdio: ["ignore", "pipe", "pipe"] });
}

function vigilEnv(): Record<string, string> {
  return { VIGIL_SERVICE: "job", VIGIL_TOKEN: "secret-2", VIGIL_SOCKET: socketPath, VIGIL_HEARTBEAT_MS: "1000" };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-beat-"));
  socketPath = join(dir, "heartbeat.sock");
});

afterEach(async () => {
  killStarted();
  await server?.close().catch(() => {});
  server = null;
  await rm(dir, { recursive: true, force: true });
});

describe("vigil beat", () => {
  it.each([
    [{ data: '{"n":3}' }, '{"service":"job","token":"secret-2","type":"beat","data":{"n":3}}\n'],
    [{}, '{"service":"job","token":"secret-2","type":"beat"}\n'],
    [{ ready: true }, '{"service":"job","token":"secret-2","type":"ready"}\n'],
    [{ status: "loading 3/10" }, '{"service":"job","token":"secret-2","type":"status","text":"loading 3/10"}\n'],
    [{ task: "req-42", start: true, name: "nightly" }, '{"service":"job","token":"secret-2","type":"task","id":"req-42","event":"start","name":"nightly"}\n'],
    [{ task: "req-42", progress: true }, '{"service":"job","token":"secret-2","type":"task","id":"req-42","event":"progress"}\n'],
    [{ task: "req-42", end: true }, '{"service":"job","token":"secret-2","type":"task","id":"req-42","event":"end"}\n'],
  ])("sends %j as one line and exits 0", async (options, line) => {
    server = await HeartbeatServer.listen(socketPath);
    const child = beat(options);

    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
    expect(child.stderr).toBe("");
    const received = await waitFor("the line", () => server!.raw.length > 0 && server!.raw);
    expect(received).toEqual([line]);
  });

  it("says it is not running under vigil when the variables are missing", async () => {
    const child = beat({ ready: true }, { VIGIL_SERVICE: "job" });

    expect(await child.waitForExit()).toEqual({ code: 1, signal: null });
    expect(child.stderr).toBe("vigil beat: not running under vigil (VIGIL_TOKEN, VIGIL_SOCKET not set)\n");
  });

  it("refuses --data that is not JSON, and sends nothing", async () => {
    server = await HeartbeatServer.listen(socketPath);
    const child = beat({ data: "{n:3}" });

    expect(await child.waitForExit()).toEqual({ code: 1, signal: null });
    expect(child.stderr).toMatch(/^vigil beat: --data is not valid JSON: .+\n$/);
    expect(server.connectionCount + server.raw.length).toBe(0);
  });

  it("refuses --data nested deeper or larger than the supervisor takes, and sends nothing", async () => {
    server = await HeartbeatServer.listen(socketPath);
    const deep = beat({ data: `${"[".repeat(33)}${"]".repeat(33)}` });
    expect(await deep.waitForExit()).toEqual({ code: 1, signal: null });
    expect(deep.stderr).toBe("vigil beat: --data must be nested at most 32 deep; the supervisor refuses more\n");
    const large = beat({ data: JSON.stringify("x".repeat(17_000)) });
    expect(await large.waitForExit()).toEqual({ code: 1, signal: null });
    expect(large.stderr).toBe("vigil beat: --data must be at most 16 KiB as JSON; the supervisor refuses more\n");
    expect(server.connectionCount + server.raw.length).toBe(0);
  });

  it.each([
    [{ task: "x" }, "vigil beat: --task needs exactly one of --start, --progress or --end"],
    [{ task: "x", start: true, end: true }, "vigil beat: --task needs exactly one of --start, --progress or --end"],
    [{ start: true }, "vigil beat: --start needs --task ID"],
    [{ task: "x", start: true, ready: true }, "vigil beat: --task cannot be combined with --ready; send one message at a time"],
    [{ task: "x".repeat(257), start: true }, "vigil beat: --task must be 1 to 256 characters"],
  ])("refuses the task report %j, and sends nothing", async (options, message) => {
    const child = beat(options);
    expect(await child.waitForExit()).toEqual({ code: 1, signal: null });
    expect(child.stderr).toBe(`${message}\n`);
  });

  it("refuses to combine messages", async () => {
    const child = beat({ ready: true, status: "x" });

    expect(await child.waitForExit()).toEqual({ code: 1, signal: null });
    expect(child.stderr).toBe("vigil beat: --ready and --status cannot be combined; send one message at a time\n");
  });

  it.each([
    ["does not exist", async () => {}, "the socket does not exist (is the supervisor running?)"],
    ["refuses", async () => writeFile(socketPath, "not a socket"), "connection refused (is the supervisor running?)"],
  ])("exits 1 and names the socket when it %s", async (_, prepare, reason) => {
    await prepare();
    const child = beat({ ready: true });

    expect(await child.waitForExit()).toEqual({ code: 1, signal: null });
    expect(child.stderr).toBe(`vigil beat: cannot reach the supervisor at ${socketPath}: ${reason}\n`);
  });
});
