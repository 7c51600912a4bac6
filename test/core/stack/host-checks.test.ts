// checks.cpu and checks.memory: an event when the host crosses a threshold, and health levels in which
// a check that is not configured is unknown.
import { describe, expect, it } from "vitest";
import type { Effect } from "../../../src/core/stack/effects.js";
import { hostHealth } from "../../../src/core/stack/host-checks.js";
import type { HostSample } from "../../../src/core/stack/inputs.js";
import { initialState } from "../../../src/core/stack/state.js";
import { manifestOf } from "../../support/fake-world.js";
import { stepper } from "../../support/steps.js";

const run = stepper(() => 0);
const host = (cpuPercent: number, memUsedPercent: number): HostSample => ({
  cpuPercent,
  cores: 2,
  loadAvg: [0, 0, 0],
  memTotalBytes: 1_000,
  memAvailableBytes: 1_000 - memUsedPercent * 10,
  disk: null,
});
const checks = (effects: readonly Effect[]): string[] =>
  effects.flatMap((e) => (e.type === "Publish" && e.event.kind === "host-check" ? [`${e.event.fields.check}:${e.event.fields.kind}`] : []));

describe("host cpu and memory checks", () => {
  it("warns and goes critical as the host fills up, recovers once under warn, and leaves what is not configured unknown", () => {
    const state = initialState(manifestOf(`
version: 1
checks: { cpu: { warn: 80%, critical: 95% } }
services:
  api:
    command: api
`), 0);
    run(state, { type: "Started", pid: 1 });
    expect(hostHealth(state)).toEqual({ disk: "unknown", cpu: "unknown", memory: "unknown" });
    expect(checks(run(state, { type: "ResourcesSampled", samples: [], host: host(85, 99) }))).toEqual(["cpu:warn"]);
    expect(hostHealth(state)).toEqual({ disk: "unknown", cpu: "degraded", memory: "unknown" });
    expect(checks(run(state, { type: "ResourcesSampled", samples: [], host: host(97, 99) }))).toEqual(["cpu:critical"]);
    expect(checks(run(state, { type: "ResourcesSampled", samples: [], host: host(96, 99) }))).toEqual([]);
    expect(hostHealth(state).cpu).toBe("critical");
    expect(checks(run(state, { type: "ResourcesSampled", samples: [], host: host(10, 99) }))).toEqual(["cpu:recovered"]);
    expect(hostHealth(state).cpu).toBe("healthy");
  });
});
