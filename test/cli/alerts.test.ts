import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readJournal } from "../../src/runtime/outputs/journal.js";
import type { VigilEvent } from "../../src/runtime/outputs/event.js";
import { useStacks, waitUntil } from "../support/stack.js";
import { useReceivers, type Receiver } from "../support/receiver.js";

const stack = useStacks();
const receiver = useReceivers();

interface Body {
  readonly service: string;
  readonly event: string;
  readonly reason: string | null;
  readonly folded: number;
  readonly figures: Record<string, unknown>;
  readonly text: string;
}

const bodies = (r: Receiver): Body[] => r.received.map((x) => x.body as Body);

// exits at once, every time: a crash loop
const CRASHER = (maxRestarts: number, initial: string): string => `
  crasher:
    command: sh -c 'exit 1'
    restart: { policy: always, backoff: { initial: ${initial}, factor: 1, jitter: 0 }, max_restarts: ${maxRestarts}, window: 1m }`;

describe("alerts", () => {
  it("posts restart and fatal alerts of a crash loop, folding the repeats inside the cooldown into a later message", async () => {
    const r = await receiver();
    const s = await stack(`
version: 1
services:${CRASHER(4, "50ms")}
alerts:
  - on: [restart, fatal]
    webhook: ${r.url}/hook
    cooldown: 1h
`);
    s.start();
    await waitUntil(() => bodies(r).some((b) => b.event === "fatal"), () => `a fatal alert; got ${JSON.stringify(bodies(r))}\n${s.stderr}`);
    // the three further restarts waited in the cooldown: they go out as one, before the fatal
    expect(bodies(r)).toMatchObject([
      { service: "crasher", event: "restart", reason: "exit", folded: 0, figures: { attempt: 1 } },
      { service: "crasher", event: "restart", reason: "exit", folded: 2, figures: { attempt: 4 } },
      { service: "crasher", event: "fatal", reason: "crash-loop", folded: 0, figures: { restarts: 5 } },
    ]);
    expect(r.received[0]).toMatchObject({ method: "POST", path: "/hook" });
    s.up?.kill("SIGTERM");
    expect(await s.exited()).toBe(0);
    const restarts = bodies(r).filter((b) => b.event === "restart");
    expect(restarts).toHaveLength(2);
    expect(restarts[1]?.text).toMatch(/crasher: restart — restarting in 50ms \(reason exit\) \(and 2 more\)$/);
    expect(restarts.reduce((n, b) => n + 1 + b.folded, 0)).toBe(4);
  });

  it("restarts on time while the webhook hangs, and still stops promptly", async () => {
    const r = await receiver(() => "hang");
    const s = await stack(`
version: 1
services:${CRASHER(4, "100ms")}
alerts:
  - on: [restart, fatal]
    webhook: ${r.url}/hook
    cooldown: 0
    timeout: 1m
`);
    s.start();
    // a delivery waits a minute for this receiver: reaching fatal in the test's time means none held a restart up
    await waitUntil(async () => (await s.service("crasher"))?.state === "fatal", () => `crasher to become fatal\n${s.stderr}`);
    // the first restart alert hangs in the receiver, the later ones wait behind it in order
    expect(r.received).toHaveLength(1);
    const events = (await readJournal(s.stateDir)).events.filter((e) => e.service === "crasher");
    expect(restartGaps(events).map((g) => g.delayMs)).toEqual([100, 100, 100, 100]);
    // nor does the hanging delivery hold up the shutdown (it is abandoned after a moment, not waited for)
    s.up?.kill("SIGTERM");
    expect(await s.exited()).toBe(0);
  });

  it("runs a command for a failure and again when the service has recovered", async () => {
    const s = await stack(
      `
version: 1
services:
  beater:
    command: node beater.cjs
    heartbeat: { via: ipc, interval: 200ms, misses: 3, startup_grace: 1s }
    restart: { policy: always, backoff: { initial: 0 } }
alerts:
  - on: [failed, recovered]
    command: node record.cjs
    cooldown: 0
`,
      {
        // the first child beats three times and falls silent; the next one beats on
        "beater.cjs": `
const fs = require("node:fs");
const first = !fs.existsSync("ran-once");
fs.writeFileSync("ran-once", "");
let n = 0;
setInterval(() => { if (!first || ++n <= 3) process.send({ type: "beat" }); }, 50);
`,
        "record.cjs": `
let stdin = "";
process.stdin.on("data", (d) => (stdin += d));
process.stdin.on("end", () => {
  const line = JSON.stringify({ kind: process.env.VIGIL_EVENT_KIND, service: process.env.VIGIL_EVENT_SERVICE, body: JSON.parse(stdin) });
  require("node:fs").appendFileSync("alerts.jsonl", line + "\\n");
});
`,
      },
    );
    s.start();
    const recorded = async (): Promise<{ kind: string; service: string; body: Body }[]> =>
      (await readFile(join(s.dir, "alerts.jsonl"), "utf8").catch(() => ""))
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { kind: string; service: string; body: Body });
    await waitUntil(async () => (await recorded()).some((a) => a.kind === "recovered"), () => `a recovered alert\n${s.stderr}`);
    const alerts = await recorded();
    expect(alerts.map((a) => [a.kind, a.service])).toEqual([
      ["failed", "beater"],
      ["recovered", "beater"],
    ]);
    expect(alerts[0]?.body).toMatchObject({ event: "failed", reason: "heartbeat", service: "beater" });
    expect(alerts[1]?.body).toMatchObject({ event: "recovered", source: "health" });
  });
});

/** For each restart-scheduled: its delay, and how long it took until the next spawn. */
function restartGaps(events: readonly VigilEvent[]): { delayMs: number; tookMs: number }[] {
  const gaps: { delayMs: number; tookMs: number }[] = [];
  events.forEach((e, i) => {
    if (e.kind !== "restart-scheduled") return;
    const next = events.slice(i + 1).find((x) => x.kind === "spawned");
    if (next) gaps.push({ delayMs: Number(e.fields["delayMs"]), tookMs: Date.parse(next.at) - Date.parse(e.at) });
  });
  return gaps;
}
