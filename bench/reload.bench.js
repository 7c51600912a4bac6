// Hot reload: from saving supervisor.yaml (an editor's atomic save) to the added service running,
// over 50 edits, against the real `vigil up`.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, round, saveResult, summary, table } from "./lib.js";

const EDITS = Number(process.env.BENCH_RELOAD_EDITS ?? 50);
const CLI = join(ROOT, "dist", "cli", "main.js");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function manifest(added) {
  const services = ["  base:\n    command: sleep 600\n"];
  for (let i = 1; i <= added; i++) services.push(`  added-${i}:\n    command: sleep 600\n`);
  return `version: 1\nservices:\n${services.join("")}`;
}

function readStatus(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, ".vigil", "status.json"), "utf8"));
  } catch {
    return null;
  }
}

async function waitFor(check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`reload bench: timed out waiting for ${what}`);
    await sleep(2);
  }
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-reload-"));
  const file = join(dir, "supervisor.yaml");
  writeFileSync(file, manifest(0));
  const up = spawn(process.execPath, [CLI, "up"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let stderr = "";
  up.stderr.on("data", (d) => (stderr += d));
  const delays = [];
  try {
    await waitFor(() => readStatus(dir)?.services.find((s) => s.name === "base")?.state === "running", "base to run");
    for (let i = 1; i <= EDITS; i++) {
      // an editor's save: write a temporary file beside it, then rename it over the manifest
      writeFileSync(`${file}.tmp`, manifest(i));
      const savedAt = Date.now();
      renameSync(`${file}.tmp`, file);
      const added = await waitFor(() => {
        const s = readStatus(dir)?.services.find((x) => x.name === `added-${i}`);
        return s?.state === "running" ? s : null;
      }, `added-${i} to run`);
      delays.push(Date.parse(added.started_at) - savedAt);
      // let the watcher settle so that each edit is its own generation
      await sleep(150);
    }
  } catch (err) {
    console.error(stderr.slice(-2000));
    throw err;
  } finally {
    up.kill("SIGTERM");
    await new Promise((r) => up.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
  const s = summary(delays);
  const result = {
    edits: EDITS,
    save_to_running_ms: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === "n" ? v : round(v, 1)])),
    debounce_ms: 100,
    goal: "median save -> added service running <= 150 ms",
    pass: s.median <= 150,
  };
  const path = saveResult("reload", result);
  console.log(
    table([
      [`reload (${EDITS} edits, atomic saves)`, "median ms", "p99 ms", "min ms", "max ms"],
      ["save -> added service running", round(s.median, 1), round(s.p99, 1), round(s.min, 1), round(s.max, 1)],
    ]),
  );
  console.log(`goal median <= 150 ms: ${result.pass ? "PASS" : "MISS"}  -> ${path}`);
  return result;
}
