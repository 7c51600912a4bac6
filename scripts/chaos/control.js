// Talking to the stack: raw requests on control.sock (timed to the millisecond), the vigil CLI as a
// user runs it, and `vigil up` itself as a child of this script.
import { execFile, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ROOT } from "../../bench/lib.js";

export const BIN = join(ROOT, "bin/vigil");

/** One request line, the first answer line back: { ok, data | error, ms }. Never rejects. */
export function controlRequest(stateDir, req, timeoutMs) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const socket = createConnection(join(stateDir, "control.sock"));
    const chunks = [];
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...result, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish({ ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.on("connect", () => socket.write(`${JSON.stringify(req)}\n`));
    socket.on("data", (chunk) => {
      const nl = chunk.indexOf(10);
      if (nl < 0) return void chunks.push(chunk);
      chunks.push(chunk.subarray(0, nl));
      try {
        const answer = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        finish(answer.ok ? { ok: true, data: answer.data } : { ok: false, error: `${answer.code}: ${answer.error}` });
      } catch (err) {
        finish({ ok: false, error: `answer is not JSON: ${err.message}` });
      }
    });
    socket.on("error", (err) => finish({ ok: false, error: err.code ?? err.message }));
    socket.on("close", () => finish({ ok: false, error: "closed without an answer" }));
  });
}

/** `vigil ARGS -f MANIFEST` as a user runs it: { code, stdout, stderr, ms } */
export function runCli(args, manifest, timeoutMs = 60_000) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(BIN, [...args, "-f", manifest], { timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : err.signal ?? err.code ?? 1) : 0;
      resolve({ code, stdout, stderr: stderr.trim(), ms: performance.now() - t0 });
    });
  });
}

/**
 * `vigil up` through bin/vigil, with the marker in its environment (every descendant inherits it),
 * its output appended to `logFile`. `onExit(code, signal)` is called when it exits.
 */
export function startVigilUp(dir, manifest, marker, logFile, onExit) {
  const [key, value] = [marker.slice(0, marker.indexOf("=")), marker.slice(marker.indexOf("=") + 1)];
  const fd = openSync(logFile, "a");
  const proc = spawn(BIN, ["up", "-f", manifest], { cwd: dir, env: { ...process.env, [key]: value }, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const exited = new Promise((resolve) => {
    proc.on("exit", (code, signal) => {
      onExit(code, signal);
      resolve({ code, signal });
    });
  });
  return { proc, pid: proc.pid, exited };
}

/** the last `lines` lines of a file, for a report */
export function tail(file, lines = 20) {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** VmRSS of pid in KiB; null when it is gone */
export function rssKib(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
