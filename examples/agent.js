// An "AI agent loop": one unit of work a second, a heartbeat carrying the loop count, and every ~40 s a
// hang (the event loop blocks, so beats stop) for the heartbeat watchdog to catch and restart.
// Without vigil it runs the same: the heartbeat does nothing and the hang just passes.
import { heartbeat } from "vigil/client";

const HANG_EVERY_MS = Number(process.env.HANG_EVERY_MS ?? 40_000);
const HANG_FOR_MS = Number(process.env.HANG_FOR_MS ?? 30_000);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const thoughts = ["read the inbox", "plan the next step", "call a tool", "summarise the result", "update memory"];

let loop = 0;
const hb = heartbeat({ data: () => ({ loop }) });
console.log(`agent: starting (pid ${process.pid}, heartbeats over ${hb.transport})`);

process.on("SIGTERM", () => {
  console.log(`agent: stopping after ${loop} loops`);
  hb.stop();
  process.exit(0);
});

// start-up work (loading a model, opening connections) before the agent can take work
await sleep(1500);
hb.ready();
hb.status("working");
let nextHangAt = Date.now() + HANG_EVERY_MS;

for (;;) {
  loop++;
  console.log(`agent: loop ${loop}: ${thoughts[loop % thoughts.length]}`);
  if (Date.now() >= nextHangAt) {
    console.log(`agent: loop ${loop}: stuck in a tool call for ${HANG_FOR_MS / 1000} s`);
    hb.status("stuck in a tool call");
    // a synchronous wait blocks the event loop as a real hang would, so no automatic beat can go out
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, HANG_FOR_MS);
    console.log(`agent: loop ${loop}: unstuck`);
    hb.status("working");
    nextHangAt = Date.now() + HANG_EVERY_MS;
  }
  await sleep(1000);
}
