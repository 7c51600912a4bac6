// SPEC §6.1: `replicas: N` runs N instances of a service, each told its index; a scale changes the count live.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRunning, useStacks, waitUntil, type Stack } from "../support/stack.js";

const stack = useStacks();

// An HTTP server that answers with its instance index; it writes the port it got into ports/INDEX.
const SERVER = `
const http = require("node:http");
const fs = require("node:fs");
const index = process.env.VIGIL_INSTANCE;
const server = http.createServer((req, res) => res.end(index + "/" + process.env.VIGIL_REPLICAS));
server.listen(0, "127.0.0.1", () => {
  fs.mkdirSync("ports", { recursive: true });
  fs.writeFileSync("ports/" + index + ".tmp", String(server.address().port));
  fs.renameSync("ports/" + index + ".tmp", "ports/" + index);
});
`;

async function askInstance(s: Stack, index: number): Promise<string> {
  const port = Number(await readFile(join(s.dir, "ports", String(index)), "utf8"));
  return await (await fetch(`http://127.0.0.1:${port}/`)).text();
}

async function running(s: Stack, count: number): Promise<{ name: string; pid: number; instance: number }[]> {
  let web: { name: string; pid: number; instance: number; state: string; service: string }[] = [];
  await waitUntil(async () => {
    const doc = await s.statusFile();
    web = (doc?.services ?? []).filter((x) => x.service === "web") as typeof web;
    return web.length === count && web.every((x) => x.state === "running" && x.pid !== null);
  }, () => `${count} running instances of web; saw ${JSON.stringify(web)}`);
  for (const x of web) s.seenPids.add(x.pid);
  return web;
}

describe("replicas", () => {
  it("runs three instances of an HTTP service, restarts only the one killed, scales live, and leaves nothing", async () => {
    const s = await stack(
      `
version: 1
services:
  web:
    command: node server.cjs
    replicas: 3
    restart: { policy: always, backoff: { initial: 0 } }
  solo:
    command: sleep 300
`,
      { "server.cjs": SERVER },
    );
    s.start();
    const three = await running(s, 3);
    expect(three.map((x) => [x.name, x.instance])).toEqual([["web.0", 0], ["web.1", 1], ["web.2", 2]]);
    await waitUntil(async () => (await Promise.all([0, 1, 2].map((i) => askInstance(s, i).catch(() => "")))).every(Boolean), "every instance to answer");
    expect(await Promise.all([0, 1, 2].map((i) => askInstance(s, i)))).toEqual(["0/3", "1/3", "2/3"]);

    // kill -9 of one: only it is replaced
    process.kill(three[1]!.pid, "SIGKILL");
    await s.waitFor("web.1", (x) => x.state === "running" && x.pid !== three[1]!.pid && x.restarts === 1, "to be replaced");
    expect((await s.service("web.0"))?.pid).toBe(three[0]!.pid);
    expect((await s.service("web.2"))?.pid).toBe(three[2]!.pid);

    const up = await s.run(["scale", "web", "5"]);
    expect(up.stdout).toBe("vigil: web scaled from 3 to 5 instances\n");
    const five = await running(s, 5);
    expect(five.map((x) => x.name)).toEqual(["web.0", "web.1", "web.2", "web.3", "web.4"]);
    expect(five[0]!.pid).toBe(three[0]!.pid);
    await waitUntil(async () => (await askInstance(s, 4).catch(() => "")) === "4/5", "web.4 to answer");

    const down = await s.run(["scale", "web", "1"]);
    expect(down.code).toBe(0);
    const one = await running(s, 1);
    // the one left keeps its pid, and is named like the service again
    expect(one).toMatchObject([{ name: "web", instance: 0, pid: three[0]!.pid }]);
    for (const x of five.slice(1)) expect(isRunning(x.pid), `web.${x.instance} still runs`).toBe(false);

    const unknown = await s.run(["scale", "nope", "2"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^vigil: unknown service nope \(known: web, solo\)$/m);

    expect((await s.run(["down"])).code).toBe(0);
    expect(s.leftovers()).toEqual([]);
  });

  it("takes one instance by its name: vigil restart web.1 restarts only web.1", async () => {
    const s = await stack(`
version: 1
services:
  web:
    command: sleep 300
    replicas: 2
`);
    s.start();
    const two = await running(s, 2);
    expect((await s.run(["restart", "web.1"])).code).toBe(0);
    await s.waitFor("web.1", (x) => x.state === "running" && x.pid !== two[1]!.pid, "to restart");
    expect((await s.service("web.0"))?.pid).toBe(two[0]!.pid);
    const status = await s.run(["status", "--json", "web"]);
    expect((JSON.parse(status.stdout) as { services: { name: string }[] }).services.map((x) => x.name)).toEqual(["web.0", "web.1"]);
  });
});
