import { describe, expect, it } from "vitest";
import { StatusRenderer } from "../../../src/runtime/outputs/status-render.js";
import { FakeWorld } from "../../support/fake-world.js";

const MANIFEST = `
version: 1
services:
  web:
    command: sleep 300
    heartbeat: { via: socket, interval: 1s }
  worker:
    command: sleep 301
`;

function rendered(world: FakeWorld) {
  /** reads of the state: each instance rendered reads it */
  let reads = 0;
  const renderer = new StatusRenderer({
    state: () => {
      reads++;
      return world.state;
    },
    version: () => world.loop.inputs,
    clock: world.clock,
    pid: 42,
    history: () => [],
    historyJson: () => "[]",
  });
  return { renderer, reads: () => reads };
}

describe("the status renderer", () => {
  it("gives status.json's pieces that make the same text as the one-instance-a-line document", async () => {
    const world = new FakeWorld(MANIFEST).start();
    const { renderer } = rendered(world);
    const text = (await renderer.linesPieces()).join("");
    expect(text).toBe(await renderer.json({ lines: true }));
    expect(text.split("\n")).toHaveLength(4);
    expect(JSON.parse(text).services.map((s: { name: string }) => s.name)).toEqual(["web", "worker"]);
  });

  it("answers status --json from the text it made while the state has not changed", async () => {
    const world = new FakeWorld(MANIFEST).start();
    const { renderer, reads } = rendered(world);
    const first = await renderer.json();
    // asking for the status is an input of the loop too, and changes nothing
    world.post({ type: "ControlRequested", replyTo: 1, command: { cmd: "status", names: [], history: false } });
    const before = reads();
    expect(await renderer.json()).toBe(first);
    // the supervisor's part and what is watched outside the services (pings, unmanaged beats) alone were made again
    expect(reads() - before).toBe(2);
    world.say("web", { type: "beat" });
    const after = await renderer.json();
    expect(after).not.toBe(first);
    expect(JSON.parse(after).services[0].beats).toBe(1);
    // with history, or for some services, it is made anew
    expect(JSON.parse(await renderer.json({ history: true })).services[0].history).toEqual([]);
  });
});
