// Values of the wrong shape where a cross-field check expects a mapping: each one is a located
// problem of the manifest, never an error of vigil.
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/manifest/load.js";
import { problems } from "../support/manifest.js";

const lines = (...text: string[]): string => `${text.join("\n")}\n`;
const SERVICE = ["version: 1", "services:", "  api:", "    command: node app.js"];

describe("values of an odd shape", () => {
  it("asks an empty http mapping for its listen address", () => {
    expect(problems(lines(...SERVICE, "http: {}"))).toEqual(['supervisor.yaml:5:1: http.listen: missing required key "listen"']);
  });

  it("asks http with only a token for its listen address", () => {
    expect(problems(lines(...SERVICE, "http: { token_env: X }"))).toEqual(['supervisor.yaml:5:1: http.listen: missing required key "listen"']);
  });

  it("checks the token of a non-loopback http address only once the address is valid", () => {
    expect(problems(lines(...SERVICE, "http: { listen: 'nowhere' }"))).toEqual([
      'supervisor.yaml:5:17: http.listen: expected "host:port" such as "127.0.0.1:5432", got "nowhere"',
    ]);
  });

  it("rejects http: null", () => {
    expect(problems(lines(...SERVICE, "http: null"))).toEqual(["supervisor.yaml:5:7: http: expected a mapping, got null"]);
  });

  it("rejects limits: null", () => {
    expect(problems(lines(...SERVICE, "    limits: null"))).toEqual(["supervisor.yaml:5:13: services.api.limits: expected a mapping, got null"]);
  });

  it("rejects a null probe", () => {
    expect(problems(lines(...SERVICE, "    probes: { liveness: null }"))).toEqual([
      "supervisor.yaml:5:25: services.api.probes.liveness: expected a mapping, got null",
    ]);
  });

  it("rejects a null alert rule", () => {
    expect(problems(lines(...SERVICE, "alerts: [null]"))).toEqual(["supervisor.yaml:5:10: alerts.0: expected a mapping, got null"]);
  });

  it("rejects lists and scalars where a checked mapping belongs", () => {
    expect(problems(lines(...SERVICE, "    limits: [1]", "    probes: { readiness: 5 }", "alerts: [[], true]"))).toEqual([
      "supervisor.yaml:5:13: services.api.limits: expected a mapping, got a list",
      "supervisor.yaml:6:26: services.api.probes.readiness: expected a mapping, got 5",
      "supervisor.yaml:7:10: alerts.0: expected a mapping, got a list",
      "supervisor.yaml:7:14: alerts.1: expected a mapping, got true",
    ]);
  });

  it("still runs the cross-field checks of a mapping whose other keys are wrong", () => {
    expect(problems(lines(...SERVICE, "    probes: { liveness: { interval: soon } }", "    limits: { for: never }"))).toEqual([
      "supervisor.yaml:5:15: services.api.probes.liveness: a probe needs exactly one of http, tcp or exec",
      'supervisor.yaml:5:37: services.api.probes.liveness.interval: expected a duration such as 250ms, 5s, 10m, 1h or 2h30m, or whole milliseconds, got "soon"',
      "supervisor.yaml:6:13: services.api.limits: limits needs memory, cpu or both",
      'supervisor.yaml:6:20: services.api.limits.for: expected a duration such as 250ms, 5s, 10m, 1h or 2h30m, or whole milliseconds, got "never"',
    ]);
  });

  it("reports a command of ten megabytes at its node", () => {
    expect(problems(lines("version: 1", "services:", "  api:", `    command: ${"a".repeat(10_000_000)}`))).toEqual([
      "supervisor.yaml:4:14: services.api.command: an argument of 10000000 bytes is longer than Linux allows (131071 bytes); put it in a file or a script",
    ]);
  });

  // check said ok, and then vigil up stopped with an internal error (state_dir) or failed every spawn
  it("rejects a NUL in a path or an environment value, which no program can receive", () => {
    const text = lines("version: 1", 'state_dir: "run\\0"', "services:", "  api:", "    command: x", '    cwd: "a\\0b"', '    env: { A: "x\\0y" }', "    env_file: .env");
    const nul = "cannot contain a NUL character: no program can receive one";
    expect(problemsWith(text, { ".env": "B=a\0b\n" })).toEqual([
      `supervisor.yaml:2:12: state_dir: ${nul}`,
      `supervisor.yaml:6:10: services.api.cwd: ${nul}`,
      `supervisor.yaml:7:15: services.api.env.A: ${nul}`,
      ".env:1:3: services.api.env_file: B: cannot contain a NUL character",
    ]);
  });
});

describe("the key __proto__", () => {
  // the validation dropped it without a word: the service vanished ("at least one service is
  // required"), the variable was never set
  it("is refused as a service's name and as a variable's", () => {
    const reserved = 'the key "__proto__" is reserved: it cannot name a service, a variable or anything else';
    expect(problems(lines("version: 1", "services:", "  __proto__: { command: x }"))).toEqual([`supervisor.yaml:3:3: ${reserved}`]);
    expect(problems(lines(...SERVICE, "    env: { __proto__: 1, A: 2 }"))).toEqual([`supervisor.yaml:5:12: ${reserved}`]);
  });
});

function problemsWith(text: string, files: Record<string, string>): string[] {
  return problems(text, "supervisor.yaml", { readFile: (path) => files[path.split("/").at(-1) ?? ""] ?? "" });
}
