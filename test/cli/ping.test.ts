// `ping:` checks (a dead man's switch) and beats of processes without a service, against the real
// supervisor: late, then down and alerted past every + grace; /fail marks it failed at once; the token
// is required; unmanaged names show up in status and expire.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PingDoc } from "../../src/control/outside-doc.js";
import { freePort } from "../support/net.js";
import { useStacks, vigil, waitUntil, type Stack } from "../support/stack.js";

const stack = useStacks();

async function ping(s: Stack, name: string): Promise<PingDoc | undefined> {
  return (await s.statusFile())?.pings?.find((p) => p.name === name);
}

async function waitPing(s: Stack, name: string, predicate: (p: PingDoc) => boolean, what: string): Promise<PingDoc> {
  let last: PingDoc | undefined;
  await waitUntil(async () => {
    last = await ping(s, name);
    return last !== undefined && predicate(last);
  }, () => `${name} ${what}; last seen ${JSON.stringify(last)}\n${s.stderr}`);
  return last as PingDoc;
}

describe("ping: a dead man's switch", () => {
  it("goes late after every, then down and alerted after every + grace", async () => {
    const s = await stack(`
version: 1
services:
  nightly:
    ping: { every: 1s, grace: 1s }
alerts:
  - on: [failed]
    command: ["sh", "-c", "cat >> alerts.jsonl; echo >> alerts.jsonl"]
    cooldown: 0
`);
    s.start();
    const down = await waitPing(s, "nightly", (p) => p.state === "down", "to be down");
    expect(down).toMatchObject({ health: "failed", pings: 0, failures: 1 });
    // the journal has the way there: late first (past every), then down (past every + grace)
    let states: (string | undefined)[] = [];
    await waitUntil(async () => {
      const text = await readFile(join(s.stateDir, "events.jsonl"), "utf8").catch(() => "");
      const journal = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { kind: string; fields: { state?: string } });
      states = journal.filter((e) => e.kind === "ping").map((e) => e.fields.state);
      return states.includes("down");
    }, () => `the journal to say down; got ${JSON.stringify(states)}`);
    expect(states).toEqual(["late", "down"]);
    let alerts = "";
    await waitUntil(async () => {
      alerts = await readFile(join(s.dir, "alerts.jsonl"), "utf8").catch(() => "");
      return alerts.includes("nightly");
    }, () => `an alert for nightly; got ${alerts}`);
    expect(alerts).toContain('"event":"failed"');
  }, 30_000);

  it("takes pings over HTTP with its bearer token: /fail is down at once, /start then /0 measures the run", async () => {
    const port = await freePort();
    const s = await stack(`
version: 1
http: { listen: "127.0.0.1:${port}" }
services:
  backup:
    ping: { every: 1h, grace: 10m, token_env: BACKUP_TOKEN }
`);
    s.start([], { BACKUP_TOKEN: "s3cret" });
    await waitPing(s, "backup", (p) => p.state === "new", "to be armed");
    const base = `http://127.0.0.1:${port}/ping/backup`;
    const post = (path: string, token?: string): Promise<Response> =>
      fetch(`${base}${path}`, { method: "POST", headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    await waitUntil(async () => (await post("").catch(() => null)) !== null, "the HTTP API to listen");
    expect((await post("")).status).toBe(401);
    expect((await post("", "wrong")).status).toBe(401);
    expect((await post("/later", "s3cret")).status).toBe(404);
    expect((await fetch(base, { headers: { authorization: "Bearer s3cret" } })).status).toBe(405);

    expect((await post("/fail", "s3cret")).status).toBe(200);
    expect(await waitPing(s, "backup", (p) => p.state === "down", "to be down at once")).toMatchObject({ health: "failed", failures: 1 });
    expect((await post("/start", "s3cret")).status).toBe(200);
    await waitPing(s, "backup", (p) => p.started_at !== null, "to have started");
    expect((await post("/0", "s3cret")).status).toBe(200);
    const up = await waitPing(s, "backup", (p) => p.state === "up", "to be up");
    expect(up).toMatchObject({ pings: 2, last_exit_code: 0, started_at: null });
    expect(up.last_duration_ms).toBeGreaterThanOrEqual(0);

    // and from a shell, the token from the variable the manifest names
    const beat = await vigil(["beat", "--service", "backup", "--exit-code", "3"], s.dir, 20_000, { BACKUP_TOKEN: "s3cret", VIGIL_SOCKET: undefined, VIGIL_TOKEN: undefined });
    expect(beat.stderr).toBe("");
    expect(await waitPing(s, "backup", (p) => p.state === "down", "to be down after exit status 3")).toMatchObject({ last_exit_code: 3 });
  }, 30_000);
});

describe("beats of processes without a service", () => {
  it("lists them under unmanaged with their age, refuses a wrong token, and drops them after expire_after", async () => {
    const s = await stack(`
version: 1
heartbeat: { unmanaged: true, token_env: UM_TOKEN, expire_after: 1s }
services:
  api:
    command: sleep 300
`);
    s.start([], { UM_TOKEN: "um" });
    await s.waitFor("api", (x) => x.state === "running", "to run");
    const send = (name: string, token: string) =>
      vigil(["beat", "--service", name, "--data", '{"queue":3}'], s.dir, 20_000, { UM_TOKEN: token, VIGIL_SOCKET: undefined, VIGIL_TOKEN: undefined });
    expect((await send("wrong-token", "nope")).code).toBe(0);
    expect((await send("bidder", "um")).code).toBe(0);
    let listed: string[] = [];
    await waitUntil(async () => {
      const doc = await s.statusFile();
      listed = doc?.unmanaged?.map((u) => u.name) ?? [];
      return listed.includes("bidder");
    }, () => `bidder to be listed; got ${JSON.stringify(listed)}`);
    const doc = await s.statusFile();
    expect(doc?.unmanaged?.[0]).toMatchObject({ name: "bidder", beats: 1, last_beat_data: { queue: 3 } });
    expect(listed).toEqual(["bidder"]);
    await waitUntil(async () => ((await s.statusFile())?.unmanaged ?? ["still"]).length === 0, "bidder to expire");
  }, 30_000);
});

describe("vigil export of what only vigil watches", () => {
  it("names adopt, ping and actions in a warning, and leaves out an adopted service with no command", async () => {
    const s = await stack(`
version: 1
services:
  api:
    command: sleep 300
    actions: { critical: { run: dump-stack } }
  daemon:
    adopt: { pidfile: app.pid }
  nightly:
    ping: { every: 1h }
`);
    const result = await s.run(["export", "systemd"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("warning: api: actions.critical does not map to systemd");
    expect(result.stderr).toContain("warning: daemon: adopt does not map to systemd: vigil watches a process it did not start; no command to run: not exported");
    expect(result.stderr).toContain("warning: nightly: ping does not map to systemd");
    expect(result.stdout).toContain("api");
    expect(result.stdout).not.toMatch(/daemon|nightly/);
  });
});
