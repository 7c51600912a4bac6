import { describe, expect, it } from "vitest";
import { instanceOf, jsonLine } from "../../src/cli/log-output.js";

describe("a log line as JSON", () => {
  it("has the time, service, instance, stream and line, in that order", () => {
    const line = jsonLine({ service: "api", stream: "err", text: "oops: a \"b\"", atMs: Date.UTC(2026, 10, 22, 10, 0, 0, 123) }, ["api"]);
    expect(JSON.stringify(line)).toBe('{"time":"2026-11-22T10:00:00.123Z","service":"api","instance":0,"stream":"stderr","line":"oops: a \\"b\\""}');
  });

  it("names the service and the index of an instance of a replicated service", () => {
    expect(instanceOf("web.1", ["web"])).toEqual({ service: "web", instance: 1 });
    expect(instanceOf("web", ["web"])).toEqual({ service: "web", instance: 0 });
  });

  it("does not take a service whose own name ends in .N for an instance", () => {
    expect(instanceOf("v1.2", ["v1.2"])).toEqual({ service: "v1.2", instance: 0 });
  });
});
