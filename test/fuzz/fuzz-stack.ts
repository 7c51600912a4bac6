// One real supervisor (the built CLI) that a fuzz suite throws many cases at, and the checks made
// after each case: it runs, answers `status` within a second, kept every service's pid, and its
// memory stays bounded.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "vitest";
import { request } from "../../src/control/client.js";
import type { StatusDocument } from "../../src/control/status-document.js";
import { rssBytes } from "../support/crowd.js";
import { isRunning, Stack, waitUntil } from "../support/stack.js";

const CLIENT = pathToFileURL(resolve(import.meta.dirname, "../../dist/client/index.js")).href;

/** services that never beat themselves (the cases speak for them with their tokens), and one that does */
export const TARGETS = ["target-a", "target-b"] as const;
export type Target = (typeof TARGETS)[number];

/** how much the supervisor's RSS may grow over the whole run */
const RSS_GROWTH_LIMIT_BYTES = 128 * 1024 * 1024;

export interface FuzzStackOptions {
  /** more manifest at the top level (an http: line) */
  readonly top?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export class FuzzStack {
  readonly tokens = {} as Record<Target, string>;
  private pids = new Map<string, number>();
  private baselineRssBytes = 0;
  /** how many messages, requests or lines the suite has sent, for its report */
  sent = 0;
  cases = 0;

  private constructor(readonly stack: Stack) {}

  static async start(opts: FuzzStackOptions = {}): Promise<FuzzStack> {
    const services = TARGETS.map((name) => `  ${name}:\n    command: sh -c 'echo "$VIGIL_TOKEN" > ${name}.token; exec sleep 100000'\n`).join("");
    const stack = await Stack.create(
      `version: 1
${opts.top ?? ""}
services:
${services}  beater:
    command: node beater.mjs
    heartbeat: { via: socket, interval: 1s, misses: 5, startup_grace: 10s }
`,
      { "beater.mjs": `import { heartbeat } from ${JSON.stringify(CLIENT)};\nlet n = 0;\nheartbeat({ data: () => ({ n: ++n }) });\nsetInterval(() => {}, 1e9);\n` },
    );
    const f = new FuzzStack(stack);
    stack.start([], opts.env ?? {});
    for (const name of [...TARGETS, "beater"]) {
      const doc = await stack.waitFor(name, (x) => x.state === "running" && (name !== "beater" || x.beats > 0), "to run");
      f.pids.set(name, doc.pid!);
    }
    for (const name of TARGETS) {
      const file = join(stack.dir, `${name}.token`);
      await waitUntil(async () => (await readFile(file, "utf8").catch(() => "")).trim() !== "", `${file} written`);
      f.tokens[name] = (await readFile(file, "utf8")).trim();
    }
    f.baselineRssBytes = rssBytes(f.pid);
    return f;
  }

  get pid(): number {
    return this.stack.up!.pid!;
  }

  get stateDir(): string {
    return this.stack.stateDir;
  }

  /** The status document, which the supervisor must give within a second. */
  async status(): Promise<StatusDocument> {
    return (await request(this.stateDir, { cmd: "status" }, 1000)) as StatusDocument;
  }

  /** After a case: alive, answering, every service on its first pid, memory bounded. */
  async check(): Promise<StatusDocument> {
    this.cases++;
    expect(isRunning(this.pid), `the supervisor died\n${this.stack.stderr.slice(-4000)}`).toBe(true);
    const doc = await this.status();
    for (const s of doc.services) {
      expect({ name: s.name, pid: s.pid, restarts: s.restarts }).toEqual({ name: s.name, pid: this.pids.get(s.name), restarts: 0 });
    }
    expect(rssBytes(this.pid) - this.baselineRssBytes).toBeLessThan(RSS_GROWTH_LIMIT_BYTES);
    return doc;
  }

  /** Ends the supervisor and its services; says what the suite did, and how the supervisor ended if it died. */
  async stop(suite: string): Promise<void> {
    if (this.cases > 0) console.log(`${suite}: ${this.cases} cases, ${this.sent} messages sent`);
    if (!isRunning(this.pid)) console.log(`${suite}: the supervisor died:\n${this.stack.stderr.slice(-6000)}`);
    await this.stack.cleanup();
  }
}

/** resolves after a turn of the event loop: lets a written chunk go out alone */
export function nextTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
