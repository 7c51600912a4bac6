// The manifest watcher and the control socket in a process that runs out of file descriptors and gets
// them back. Each runs in a process of its own (built code, as the CLI tests use), which holds every
// descriptor it can get when the test says "exhaust" and lets them go at "free".
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitUntil } from "../../support/stack.js";

const DIST = resolve(import.meta.dirname, "../../../dist");

const HOLDER = `
import { closeSync, openSync } from "node:fs";
const held = [];
export const say = (line) => process.stdout.write(line + "\\n");
export function onCommand(commands) {
  let buffered = "";
  process.stdin.setEncoding("utf8").on("data", (chunk) => {
    buffered += chunk;
    for (let nl = buffered.indexOf("\\n"); nl >= 0; nl = buffered.indexOf("\\n")) {
      const command = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (command === "exhaust") {
        try { for (;;) held.push(openSync("/dev/null", "r")); } catch (err) { say("exhausted " + err.code); }
      } else if (command === "free") {
        for (const fd of held.splice(0)) closeSync(fd);
        say("freed");
      } else commands[command]?.();
    }
  });
}
`;

let dir: string;
let child: ChildProcessWithoutNullStreams | null = null;
let output = "";

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-fds-"));
  await writeFile(join(dir, "holder.mjs"), HOLDER);
  output = "";
});

afterEach(async () => {
  child?.kill("SIGKILL");
  child = null;
  await rm(dir, { recursive: true, force: true });
});

async function run(script: string): Promise<void> {
  await writeFile(join(dir, "main.mjs"), script);
  const started = spawn(process.execPath, [join(dir, "main.mjs")], { cwd: dir });
  child = started;
  started.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  started.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
}

const said = (line: string | RegExp) => () => (typeof line === "string" ? output.split("\n").includes(line) : line.test(output));
const tell = (command: string) => child?.stdin.write(`${command}\n`);
const times = (line: string) => output.split("\n").filter((l) => l === line).length;

describe("out of file descriptors", () => {
  it("the manifest watcher says it stopped, tries again, resumes, and then sees edits", async () => {
    await writeFile(join(dir, "supervisor.yaml"), "version: 1\n");
    await run(`
import { ManifestWatcher } from ${JSON.stringify(`${DIST}/runtime/manifest-watcher.js`)};
import { onCommand, say } from "./holder.mjs";
const watcher = new ManifestWatcher({
  manifest: ${JSON.stringify(join(dir, "supervisor.yaml"))},
  extraFiles: () => [],
  rewatchMs: 200,
  onChange: () => say("changed"),
  onStopped: (err) => say("stopped " + err.code),
  onResumed: () => say("resumed"),
});
onCommand({ start: () => watcher.start().then(() => say("started")) });
say("ready");
`);
    await waitUntil(said("ready"), () => `the script to run\n${output}`);
    tell("exhaust");
    await waitUntil(said(/^exhausted EMFILE$/m), () => `descriptors held\n${output}`);
    tell("start");
    // start() does not wait for a watch that cannot be set up
    await waitUntil(said("started"), () => `start() to resolve\n${output}`);
    expect(output).toMatch(/^stopped E[MN]FILE$/m);
    tell("free");
    await waitUntil(said("resumed"), () => `watching to resume\n${output}`);
    // once for the edits that may have gone unseen meanwhile
    await waitUntil(said("changed"), () => `a reload on resuming\n${output}`);
    await writeFile(join(dir, "supervisor.yaml"), "version: 1\nservices: {}\n");
    await waitUntil(() => times("changed") === 2, () => `the edit to be seen\n${output}`);
    expect(times("stopped EMFILE") + times("stopped ENFILE")).toBe(1);
    expect(times("resumed")).toBe(1);
  });

  it("the control socket drops what it cannot take at once, and answers again once descriptors are free", async () => {
    const socket = join(dir, "control.sock");
    await run(`
import { startControlServer } from ${JSON.stringify(`${DIST}/runtime/transports/control-socket.js`)};
import { realClock } from ${JSON.stringify(`${DIST}/runtime/real-clock.js`)};
import { onCommand, say } from "./holder.mjs";
const logger = { log: () => {}, flush: async () => {} };
await startControlServer(${JSON.stringify(socket)}, async () => ({ ok: true, data: "pong" }), logger, { clock: realClock });
onCommand({});
say("listening");
`);
    await waitUntil(said("listening"), () => `the server to listen\n${output}`);
    expect(await ask(socket)).toBe('{"ok":true,"data":"pong"}\n');
    tell("exhaust");
    await waitUntil(said(/^exhausted EMFILE$/m), () => `descriptors held\n${output}`);
    // accepted and closed at once with libuv's spare descriptor, never left hanging (and not told to the
    // server: FdBudget's watch of the descriptors in use is what says so)
    expect(await ask(socket)).toBe("");
    tell("free");
    await waitUntil(said("freed"), () => `descriptors freed\n${output}`);
    expect(await ask(socket)).toBe('{"ok":true,"data":"pong"}\n');
  });
});

/** One status request; what came back before the server closed the connection. */
function ask(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const c = createConnection(path);
    let got = "";
    c.setEncoding("utf8");
    c.on("connect", () => c.write('{"cmd":"status"}\n'));
    c.on("data", (d: string) => {
      got += d;
      if (got.includes("\n")) c.end();
    });
    c.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" || err.code === "EPIPE" ? undefined : fail(err)));
    c.on("close", () => done(got));
  });
}
