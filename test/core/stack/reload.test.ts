// A new generation of the manifest applied by step(): what the supervisor decides, read off its effects.
import { describe, expect, it } from "vitest";
import type { Effect } from "../../../src/core/stack/effects.js";
import { initialState } from "../../../src/core/stack/state.js";
import { manifestOf } from "../../support/fake-world.js";
import { stepper } from "../../support/steps.js";

const ctx = { nowMs: 10_000, wallMs: 1_700_000_000_000 };
const run = stepper(() => ctx.nowMs, () => ctx.wallMs);

function spawns(effects: readonly Effect[]): [string, readonly string[]][] {
  return effects.flatMap((e) => (e.type === "Spawn" ? [[e.id, e.spec.argv] as [string, readonly string[]]] : []));
}

const WITH_WEB = "version: 1\nservices:\n  keep:\n    command: keep\n  web:\n    command: web --v1\n";
const WITHOUT_WEB = "version: 1\nservices:\n  keep:\n    command: keep\n";

/** keep and web running */
function running() {
  const state = initialState(manifestOf(WITH_WEB), ctx.wallMs);
  run(
    state,
    { type: "Started", pid: 1 },
    { type: "ChildSpawned", id: "keep#0", incarnation: 1, pid: 100, token: "t-keep" },
    { type: "ChildSpawned", id: "web#0", incarnation: 1, pid: 101, token: "t-web" },
  );
  return state;
}

describe("a service removed and added back while its child is still stopping", () => {
  it("is not lost: once the old child is gone, a new one starts with the definition added back", () => {
    const state = running();
    const removed = run(state, { type: "ManifestLoaded", manifest: manifestOf(WITHOUT_WEB), replyTo: null });
    expect(removed.filter((e) => e.type === "Signal").map((e) => e.type === "Signal" && [e.id, e.signal])).toEqual([["web#0", "SIGTERM"]]);

    // saved again, with web back (and changed), before its child has left
    const added = run(state, { type: "ManifestLoaded", manifest: manifestOf(WITH_WEB.replace("--v1", "--v2")), replyTo: null });
    expect(spawns(added)).toEqual([]);
    expect([...state.services.keys()]).toEqual(["keep", "web"]);

    const exited = run(state, { type: "ChildExited", id: "web#0", incarnation: 1, code: 0, signal: "SIGTERM" });
    expect(spawns(exited)).toEqual([["web#0", ["web", "--v2"]]]);
    run(state, { type: "ChildSpawned", id: "web#0", incarnation: 2, pid: 102, token: "t-web-2" });
    expect(state.instances.get("web#0")?.status).toMatchObject({ state: "running", pid: 102 });
    expect(state.instances.get("keep#0")?.status).toMatchObject({ state: "running", pid: 100 });
  });

  it("stays down once its child is gone when it comes back disabled, and is still a service of the stack", () => {
    const state = running();
    run(state, { type: "ManifestLoaded", manifest: manifestOf(WITHOUT_WEB), replyTo: null });
    run(state, { type: "ManifestLoaded", manifest: manifestOf(WITH_WEB + "    disabled: true\n"), replyTo: null });
    const exited = run(state, { type: "ChildExited", id: "web#0", incarnation: 1, code: 0, signal: "SIGTERM" });
    expect(spawns(exited)).toEqual([]);
    expect(state.instances.get("web#0")?.status.state).toBe("stopped");
    expect([...state.services.keys()]).toEqual(["keep", "web"]);
  });

  it("starts as many replicas as it comes back with", () => {
    const state = running();
    run(state, { type: "ManifestLoaded", manifest: manifestOf(WITHOUT_WEB), replyTo: null });
    const added = run(state, { type: "ManifestLoaded", manifest: manifestOf(WITH_WEB + "    replicas: 2\n"), replyTo: null });
    expect(spawns(added).map(([id]) => id)).toEqual(["web#1"]);
    const exited = run(state, { type: "ChildExited", id: "web#0", incarnation: 1, code: 0, signal: "SIGTERM" });
    expect(spawns(exited).map(([id]) => id)).toEqual(["web#0"]);
  });
});
