import { describe, expect, it } from "vitest";
import type { ServiceDoc, StatusDocument } from "../../src/control/status-document.js";
import { serviceDocJson, statusDocJson } from "../../src/control/status-json.js";

function service(name: string, data: unknown): ServiceDoc {
  return {
    name, state: "running", health: "healthy", pid: 100, restarts: 0, started_at: null, last_beat_at: null, beats: 1,
    last_beat_data: data, cpu_percent: null, memory_bytes: null, last_exit: null, next_restart_at: null, command: "x",
    waiting_for: [], own_cpu_percent: null, own_memory_bytes: null, processes: null, probes: null, rejected_messages: 0, status_text: null,
    service: name, instance: 0,
  };
}

const deep = (depth: number): unknown => JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`);

describe("the status document as JSON", () => {
  it("writes a service whose data JSON.stringify cannot write with its data as null, and the others whole", () => {
    const doc = {
      supervisor: { pid: 1 },
      services: [service("deep", deep(100_000)), service("big", { n: 10n }), service("fine", { queue: 3 })],
    } as unknown as StatusDocument;
    expect(() => JSON.stringify(doc)).toThrow();
    const parsed = JSON.parse(statusDocJson(doc)) as StatusDocument;
    expect(parsed.services.map((s) => [s.name, s.last_beat_data])).toEqual([["deep", null], ["big", null], ["fine", { queue: 3 }]]);
    expect(serviceDocJson(service("fine", [1]))).toBe(JSON.stringify(service("fine", [1])));
  });
});
