import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManifestError } from "../../src/manifest/errors.js";
import { loadManifest, parseManifest } from "../../src/manifest/load.js";
import { MAX_MANIFEST_BYTES } from "../../src/manifest/read-bounded.js";

const lines = (...text: string[]): string => `${text.join("\n")}\n`;

function problems(text: string, files: Record<string, string> = {}): string[] {
  try {
    parseManifest(text, "supervisor.yaml", {
      readFile: (path) => {
        const name = path.split("/").at(-1) ?? "";
        if (files[name] === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
        return files[name];
      },
    });
  } catch (error) {
    if (error instanceof ManifestError) return error.format().split("\n");
    throw error;
  }
  throw new Error("expected the manifest to be rejected");
}

describe("manifest errors", () => {
  it("points at an unknown key itself and suggests the close one", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: node app.js", "    restrat: { policy: always }");
    expect(problems(text)).toEqual([
      'supervisor.yaml:5:5: services.api.restrat: unknown key "restrat", did you mean "restart"?',
    ]);
  });

  it("points at the quote that opens a string never closed, not at the end of the file", () => {
    const text = lines("version: 1", "services:", "  a:", '    command: "sleep 1', "  b:", "    command: sleep 2");
    expect(problems(text)).toEqual(['supervisor.yaml:4:14: Missing closing "quote']);
    expect(problems(lines("version: 1", "services:", "  a:", "    command: 'sleep 1", "    cwd: /tmp"))).toEqual(["supervisor.yaml:4:14: Missing closing 'quote"]);
  });

  it("points at an alias whose anchor is not set before it", () => {
    const text = lines("version: 1", "services:", "  a:", "    command: sleep 1", "    env: *common", "  b:", "    command: sleep 2");
    expect(problems(text)).toEqual(["supervisor.yaml:5:10: Unresolved alias (the anchor must be set before the alias): common"]);
  });

  it("points at a bad duration value", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: node app.js", "    stop: { timeout: 5 sec }");
    expect(problems(text)).toEqual([
      'supervisor.yaml:5:22: services.api.stop.timeout: unknown duration unit "sec" in "5 sec"; use ms, s, m, h or d',
    ]);
  });

  it("names the bound of a duration longer than a timer can wait", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: node app.js", "    restart: { backoff: { initial: 30d } }");
    expect(problems(text)).toEqual([
      'supervisor.yaml:5:36: services.api.restart.backoff.initial: must be at most 2147483647ms (about 24.8 days, the longest a timer can wait), got "30d"',
    ]);
  });

  it("names the expected and the actual type", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: node app.js", "    shell: yes");
    expect(problems(text)).toEqual(['supervisor.yaml:5:12: services.api.shell: expected true or false, got "yes"']);
  });

  it("suggests the closest value of an enum", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: node app.js", "    restart:", "      policy: alway");
    expect(problems(text)).toEqual([
      'supervisor.yaml:6:15: services.api.restart.policy: invalid value "alway" (expected always, on-failure or never), did you mean "always"?',
    ]);
  });

  it("points a missing key at the mapping that lacks it", () => {
    const text = lines("version: 1", "services:", "  api:", "    cwd: app");
    expect(problems(text)).toEqual(['supervisor.yaml:3:3: services.api.command: missing required key "command"']);
  });

  it("reports an unknown depends_on target with a suggestion", () => {
    const text = lines("version: 1", "services:", "  db:", "    command: postgres", "  api:", "    command: node app.js", "    depends_on: [dbb]");
    expect(problems(text)).toEqual(['supervisor.yaml:7:18: services.api.depends_on.0: unknown service "dbb", did you mean "db"?']);
  });

  it("names a dependency cycle at its first edge", () => {
    const text = lines(
      "version: 1",
      "services:",
      "  a:",
      "    command: a",
      "    depends_on: { b: healthy }",
      "  b:",
      "    command: b",
      "    depends_on: [c]",
      "  c:",
      "    command: c",
      "    depends_on: [a]",
    );
    expect(problems(text)).toEqual(["supervisor.yaml:5:19: services.a.depends_on.b: dependency cycle: a -> b -> c -> a"]);
  });

  it("rejects a service that depends on itself", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: x", "    depends_on: [api]");
    expect(problems(text)).toEqual(["supervisor.yaml:5:18: services.api.depends_on.0: a service cannot depend on itself"]);
  });

  it("reports a YAML syntax error with its position", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: [node, app.js", "  db: {}");
    const [first] = problems(text);
    expect(first).toMatch(/^supervisor\.yaml:5:\d+: .*(end with a \]|indented)/);
  });

  // found by the fuzzer: the parser's line counter skips line starts after such an error, and
  // named line 2, column 19 for the ":" of line 3 (line 2 has 12 characters)
  it("positions the tokens after a syntax error on their own lines", () => {
    expect(problems(lines("version: 1", "services: }x", "  api: { command: x }"))).toEqual([
      'supervisor.yaml:2:11: Unexpected flow-map-end token in YAML stream: "}"',
      'supervisor.yaml:2:12: Unexpected scalar token in YAML stream: "x\\n  api"',
      'supervisor.yaml:3:6: Unexpected map-value-ind token in YAML stream: ":"',
      'supervisor.yaml:3:8: Unexpected flow-map-start token in YAML stream: "{"',
      'supervisor.yaml:3:10: Unexpected scalar token in YAML stream: "command"',
      'supervisor.yaml:3:17: Unexpected map-value-ind token in YAML stream: ":"',
      'supervisor.yaml:3:19: Unexpected scalar token in YAML stream: "x"',
      'supervisor.yaml:3:21: Unexpected flow-map-end token in YAML stream: "}"',
    ]);
  });

  it("says a manifest is one YAML document, where the second one starts", () => {
    const service = ["version: 1", "services:", "  api:", "    command: x"];
    expect(problems(lines(...service, "---", ...service))).toEqual(["supervisor.yaml:5:1: a manifest is one YAML document; a second one starts here"]);
  });

  it("refuses aliases that expand too far (a billion laughs)", () => {
    const levels = Array.from({ length: 9 }, (_, i) => `  l${i + 1}: &l${i + 1} [${Array(9).fill(`*l${i}`).join(", ")}]`);
    const text = lines("version: 1", "laughs:", "  l0: &l0 [lol, lol]", ...levels, "services:", "  api: { command: x, depends_on: *l9 }");
    expect(problems(text)).toEqual(["supervisor.yaml:1:1: the aliases (*name) expand too far: the document may make at most 100 copies through them"]);
  });

  it("reports duplicate keys", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: x", "    command: y");
    expect(problems(text)).toEqual(["supervisor.yaml:5:5: Map keys must be unique"]);
  });

  it("reports every problem at once, ordered by line", () => {
    const text = lines(
      "version: 2",
      "defaults:",
      "  stop: { signal: SIGTREM }",
      "services:",
      "  api:",
      "    command: node app.js | tee log",
      "    heartbeat: { via: sockt, interval: 0 }",
      "    depends_on: [nope]",
      "  web:",
      "    command: []",
      "    limits: { memory: 512M }",
    );
    expect(problems(text)).toEqual([
      "supervisor.yaml:1:10: version: unsupported version 2; this vigil reads version 1",
      'supervisor.yaml:3:19: defaults.stop.signal: unknown signal "SIGTREM", did you mean "SIGTERM"?',
      'supervisor.yaml:6:14: services.api.command: "|" needs a shell; set shell: true to run the command through /bin/sh -c',
      'supervisor.yaml:7:23: services.api.heartbeat.via: invalid value "sockt" (expected ipc, socket or notify), did you mean "socket"?',
      "supervisor.yaml:7:40: services.api.heartbeat.interval: must be greater than 0",
      'supervisor.yaml:8:18: services.api.depends_on.0: unknown service "nope"',
      "supervisor.yaml:10:14: services.web.command: command list must not be empty",
      'supervisor.yaml:11:23: services.web.limits.memory: unknown size unit "M" in "512M"; use B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024)',
    ]);
  });

  it("rejects shell operators in a command that runs without a shell", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: node app.js | tee log");
    expect(problems(text)).toEqual([
      'supervisor.yaml:4:14: services.api.command: "|" needs a shell; set shell: true to run the command through /bin/sh -c',
    ]);
  });

  it("rejects bad service names and empty service maps", () => {
    expect(problems(lines("version: 1", "services:", "  -bad:", "    command: x"))).toEqual([
      "supervisor.yaml:3:3: services.-bad: a service name starts with a letter or digit and takes only letters, digits, _ . -",
    ]);
    expect(problems(lines("version: 1", "services: {}"))).toEqual([
      "supervisor.yaml:2:11: services: at least one service is required",
    ]);
  });

  it("asks a probe for exactly one check", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: x", "    probes:", "      liveness: { http: 'http://x/', tcp: 'x:1' }");
    expect(problems(text)).toEqual([
      "supervisor.yaml:6:7: services.api.probes.liveness: a probe needs exactly one of http, tcp or exec; found http and tcp",
    ]);
  });

  it("reports a missing env_file at its node", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: x", "    env_file: .env");
    expect(problems(text)).toEqual(['supervisor.yaml:5:15: services.api.env_file: cannot read env file ".env": ENOENT: no such file']);
  });

  it("reports a malformed env_file line in the env file", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: x", "    env_file: .env");
    expect(problems(text, { ".env": "A=1\nnot a pair\nB='open\n" })).toEqual([
      ".env:2:1: services.api.env_file: expected KEY=VALUE",
      ".env:3:3: services.api.env_file: B: unterminated single quote",
    ]);
  });

  it("says when the manifest is empty", () => {
    expect(problems("# nothing yet\n")).toEqual(["supervisor.yaml:1:1: the manifest is empty: it needs version: 1 and services"]);
  });

  it("reports an unreadable manifest without a position, keeping the cause", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-manifest-"));
    try {
      const file = join(dir, "missing.yaml");
      const error = await loadManifest(file).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ManifestError);
      expect((error as ManifestError).format()).toBe(`${file}: cannot read manifest: ENOENT: no such file`);
      expect((error as ManifestError).issues[0]?.line).toBeUndefined();
      expect((error as ManifestError).cause).toMatchObject({ code: "ENOENT" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a manifest over 16 MiB after reading 16 MiB of it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-manifest-"));
    try {
      const file = join(dir, "huge.yaml");
      writeFileSync(file, `${"#".repeat(99)}\n`.repeat(MAX_MANIFEST_BYTES / 100 + 1));
      const error = await loadManifest(file).catch((caught: unknown) => caught);
      expect((error as ManifestError).format()).toBe(`${file}: cannot read manifest: larger than 16777216 bytes (16 MiB), the most vigil reads`);
      expect(problems(`version: 1\n${" ".repeat(MAX_MANIFEST_BYTES)}`)).toEqual([
        "supervisor.yaml:1:1: the manifest is larger than 16777216 bytes (16 MiB), the most vigil reads",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses an env file that never ends, such as /dev/zero", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: x", "    env_file: /dev/zero");
    expect(() => parseManifest(text, "supervisor.yaml")).toThrow(
      'supervisor.yaml:5:15: services.api.env_file: cannot read env file "/dev/zero": larger than 1048576 bytes (1 MiB), the most vigil reads',
    );
  });
  it("refuses a manifest, an env_file or a .env that is not UTF-8, at the first byte that is not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-manifest-"));
    try {
      const file = join(dir, "supervisor.yaml");
      // Latin-1 as an old editor saves it: "é" is the one byte 0xE9
      writeFileSync(file, Buffer.concat([Buffer.from('version: 1\nservices:\n  api:\n    command: "caf\u00e9 '), Buffer.from([0xe9]), Buffer.from(' 1"\n')]));
      const error = await loadManifest(file).catch((caught: unknown) => caught);
      expect((error as ManifestError).format()).toBe(`${file}:4:20: byte 0xE9 is not UTF-8 text (save the file as UTF-8)`);

      writeFileSync(file, "version: 1\nservices:\n  api:\n    command: sleep 1\n    env_file: api.env\n");
      writeFileSync(join(dir, "api.env"), Buffer.concat([Buffer.from("A=1\nB=x\u00e9"), Buffer.from([0xc0, 0x80]), Buffer.from("\n")]));
      const envError = await loadManifest(file).catch((caught: unknown) => caught);
      expect((envError as ManifestError).format()).toBe(`${join(dir, "api.env")}:2:5: services.api.env_file: byte 0xC0 is not UTF-8 text (save the file as UTF-8)`);

      writeFileSync(file, 'version: 1\nservices:\n  api:\n    command: "sleep ${A}"\n');
      // an encoded UTF-16 surrogate, which UTF-8 does not allow
      writeFileSync(join(dir, ".env"), Buffer.concat([Buffer.from("A=1\n"), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from("\n")]));
      const dotError = await loadManifest(file).catch((caught: unknown) => caught);
      expect((dotError as ManifestError).format().split("\n")[0]).toBe(`${join(dir, ".env")}:2:1: byte 0xED is not UTF-8 text (save the file as UTF-8)`);

      // the same text well encoded is read as written
      writeFileSync(join(dir, ".env"), "A=caf\u00e9 \u{1F600}\n");
      expect((await loadManifest(file)).services[0]?.argv).toEqual(["sleep", "caf\u00e9", "\u{1F600}"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
