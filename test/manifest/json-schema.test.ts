import { describe, expect, it } from "vitest";
import { manifestJsonSchema } from "../../src/manifest/json-schema.js";

type Json = Record<string, unknown>;
const at = (schema: unknown, ...keys: string[]): Json =>
  keys.reduce<Json>((node, key) => (node[key] ?? {}) as Json, schema as Json);

describe("manifestJsonSchema", () => {
  const schema = manifestJsonSchema();

  it("is a draft 2020-12 schema with a title", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.title).toBe("vigil supervisor.yaml");
  });

  it("requires version and services and forbids unknown top-level keys", () => {
    expect(schema.required).toEqual(["version", "services"]);
    expect(schema.additionalProperties).toBe(false);
  });

  it("describes services as a map of strict service objects keyed by valid names", () => {
    const services = at(schema, "properties", "services");
    expect(services.type).toBe("object");
    expect(at(services, "propertyNames").pattern).toBe("^[A-Za-z0-9][A-Za-z0-9_.-]*$");
    const service = at(services, "additionalProperties");
    expect(service.additionalProperties).toBe(false);
    // command, unless the service adopts a process vigil did not start or is a ping check
    expect(service.anyOf).toEqual([{ required: ["command"] }, { required: ["adopt"] }, { required: ["ping"] }]);
    expect(Object.keys(at(service, "properties"))).toEqual(
      expect.arrayContaining(["command", "shell", "cwd", "env", "env_file", "depends_on", "restart", "stop", "heartbeat", "logs", "limits", "probes"]),
    );
  });

  it("gives durations as a string with a pattern or an integer up to 2^31-1 ms, with the effective default", () => {
    const initial = at(schema, "properties", "defaults", "properties", "restart", "properties", "backoff", "properties", "initial");
    expect(initial.anyOf).toEqual([
      { type: "string", pattern: expect.any(String) },
      { type: "integer", minimum: 0, maximum: 2_147_483_647 },
    ]);
    expect(initial.default).toBe("200ms");
    expect(typeof initial.description).toBe("string");
  });

  it("matches the unit patterns against the forms the loader accepts", () => {
    const backoff = at(schema, "properties", "defaults", "properties", "restart", "properties", "backoff", "properties");
    const durationPattern = new RegExp(String((at(backoff, "initial").anyOf as Json[])[0]?.pattern));
    for (const ok of ["250ms", "5s", "1.5s", "2h30m", "1500"]) expect(durationPattern.test(ok)).toBe(true);
    for (const bad of ["5 sec", "soon", "-1s"]) expect(durationPattern.test(bad)).toBe(false);
  });
});
