import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AlertPayload } from "../../../../src/core/alert-policy.js";
import { runAlertCommand, type CommandTarget } from "../../../../src/runtime/outputs/alerts/command.js";
import { isRunning, waitUntil } from "../../../support/stack.js";

const payload: AlertPayload = {
  service: "api",
  event: "fatal",
  reason: "crash-loop",
  message: "crash loop: 4 restarts within 5m (max_restarts 3); giving up, state fatal",
  figures: { restarts: 4 },
  host: "web-1",
  time: "2026-11-22T10:00:01.000Z",
  folded: 0,
  source: "fatal",
  text: "[web-1] api: fatal — crash loop",
};

let dir = "";
const pids: number[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-alert-cmd-"));
});
afterEach(async () => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
  await rm(dir, { recursive: true, force: true });
});

const command = (argv: string[]): CommandTarget => ({ kind: "command", argv, shell: false, display: argv.join(" "), cwd: dir });
const opts = { timeoutMs: 5000, retries: 0, retryBackoffMs: 10, env: { PATH: process.env["PATH"] } };

// writes its VIGIL_EVENT_* variables and its stdin to received.json, in its working directory
const RECORDER = `
let stdin = "";
process.stdin.on("data", (d) => (stdin += d));
process.stdin.on("end", () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("VIGIL_EVENT_")));
  require("node:fs").writeFileSync("received.json", JSON.stringify({ env, stdin }));
});
`;

describe("runAlertCommand", () => {
  it("gives the command the alert in VIGIL_EVENT_* variables and as JSON on stdin", async () => {
    const delivery = await runAlertCommand(command([process.execPath, "-e", RECORDER]), payload, opts);
    expect(delivery).toEqual({ ok: true, attempts: 1, detail: "exit 0" });
    const received = JSON.parse(await readFile(join(dir, "received.json"), "utf8")) as { env: Record<string, string>; stdin: string };
    expect(received.env).toEqual({
      VIGIL_EVENT_KIND: "fatal",
      VIGIL_EVENT_SERVICE: "api",
      VIGIL_EVENT_REASON: "crash-loop",
      VIGIL_EVENT_MESSAGE: payload.message,
      VIGIL_EVENT_TEXT: payload.text,
      VIGIL_EVENT_HOST: "web-1",
      VIGIL_EVENT_TIME: "2026-11-22T10:00:01.000Z",
      VIGIL_EVENT_FOLDED: "0",
      VIGIL_EVENT_SOURCE: "fatal",
      VIGIL_EVENT_FIGURES: '{"restarts":4}',
    });
    expect(JSON.parse(received.stdin)).toEqual(payload);
  });

  it("is content with a command that never reads its stdin", async () => {
    expect(await runAlertCommand(command(["true"]), payload, opts)).toMatchObject({ ok: true });
  });

  it("fails with the exit status and the start of the output", async () => {
    const delivery = await runAlertCommand(command(["sh", "-c", "echo 'no route to pager' >&2; exit 3"]), payload, opts);
    expect(delivery).toEqual({ ok: false, attempts: 1, detail: "exit 3: no route to pager" });
  });

  it("retries when the rule asks for it", async () => {
    const flaky = command(["sh", "-c", 'echo x >> tries; [ "$(wc -l < tries)" -ge 2 ]']);
    expect(await runAlertCommand(flaky, payload, { ...opts, retries: 2 })).toMatchObject({ ok: true, attempts: 2 });
  });

  it("reports a program that does not exist", async () => {
    const delivery = await runAlertCommand(command(["./no-such-notifier"]), payload, opts);
    expect(delivery).toMatchObject({ ok: false, detail: expect.stringContaining("cannot run") });
  });

  it("kills a command that outlives its timeout, with everything it started", async () => {
    const hanging = command(["sh", "-c", "sleep 300 & echo $! > bg.pid; echo $$ > sh.pid; sleep 300"]);
    // sleep 300 would outlast the test: an answer at all means the timeout acted
    const delivery = await runAlertCommand(hanging, payload, { ...opts, timeoutMs: 500 });
    expect(delivery).toMatchObject({ ok: false, detail: "killed after its timeout of 500 ms" });
    const own = [await readFile(join(dir, "sh.pid"), "utf8"), await readFile(join(dir, "bg.pid"), "utf8")].map(Number);
    pids.push(...own);
    await waitUntil(() => own.every((pid) => !isRunning(pid)), `the command's processes ${own.join(", ")} to be gone`, 5000);
  });

  it("ends a process the command left behind in its group when it exits", async () => {
    const leaver = command(["sh", "-c", "sleep 300 & echo $! > bg.pid"]);
    expect(await runAlertCommand(leaver, payload, opts)).toMatchObject({ ok: true });
    const bg = Number(await readFile(join(dir, "bg.pid"), "utf8"));
    pids.push(bg);
    await waitUntil(() => !isRunning(bg), `the background sleep ${bg} to be gone`, 5000);
  });

  it("kills the command when its signal aborts (shutdown)", async () => {
    const stop = new AbortController();
    const pending = runAlertCommand(command(["sh", "-c", "echo $$ > sh.pid; sleep 300"]), payload, { ...opts, signal: stop.signal });
    await waitUntil(async () => (await readFile(join(dir, "sh.pid"), "utf8").catch(() => "")).trim() !== "", "the command to start", 5000);
    stop.abort();
    expect(await pending).toMatchObject({ ok: false, detail: "killed at shutdown" });
    const pid = Number(await readFile(join(dir, "sh.pid"), "utf8"));
    pids.push(pid);
    await waitUntil(() => !isRunning(pid), `the command ${pid} to be gone`, 5000);
  });
});
