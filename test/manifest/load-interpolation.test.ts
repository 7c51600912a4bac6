import { describe, expect, it } from "vitest";
import { ManifestError } from "../../src/manifest/errors.js";
import { parseManifest, parseManifestDocument, type ParseOptions } from "../../src/manifest/load.js";

const FILE = "/srv/app/supervisor.yaml";
const lines = (...text: string[]): string => `${text.join("\n")}\n`;
const options = (env: Record<string, string>, dotEnv?: string): ParseOptions => ({
  env,
  readDotEnv: (path) => (path === "/srv/app/.env" ? dotEnv : undefined),
  readFile: () => "FROM_FILE=1\n",
});

function problems(text: string, opts: ParseOptions, file = FILE): string[] {
  try {
    parseManifest(text, file, opts);
  } catch (error) {
    if (error instanceof ManifestError) return error.format().split("\n");
    throw error;
  }
  throw new Error("expected the manifest to be rejected");
}

describe("variables in the manifest", () => {
  it("replaces them in command, cwd, env values, env_file and probe targets", () => {
    const text = lines(
      "version: 1",
      "state_dir: ${STATE:-.vigil}",
      "http: { listen: '127.0.0.1:${METRICS_PORT}' }",
      "services:",
      "  api:",
      "    command: node api.js --port ${PORT}",
      "    cwd: ${APP_DIR}",
      "    env: { URL: 'http://${HOST}:${PORT}', N: 3 }",
      "    env_file: ${ENV_FILE:-app.env}",
      "    probes:",
      "      liveness: { http: 'http://${HOST}:${PORT}/health' }",
      "      readiness: { tcp: '${HOST}:${PORT}' }",
      "  job:",
      "    command: [sh, -c, 'echo ${HOST} $$HOME $PATH']",
      "    probes: { liveness: { exec: [test, -n, '${HOST}'] } }",
    );
    const manifest = parseManifest(text, FILE, options({ PORT: "3000", APP_DIR: "srv", METRICS_PORT: "9876" }, "HOST=db\n"));
    const [api, job] = manifest.services;
    expect(manifest.stateDir).toBe("/srv/app/.vigil");
    expect(manifest.http?.port).toBe(9876);
    expect(api?.argv).toEqual(["node", "api.js", "--port", "3000"]);
    expect(api?.cwd).toBe("/srv/app/srv");
    expect(api?.env).toEqual({ FROM_FILE: "1", URL: "http://db:3000", N: "3" });
    expect(api?.envFile).toBe("/srv/app/app.env");
    expect(api?.probes.liveness?.check).toEqual({ kind: "http", url: "http://db:3000/health" });
    expect(api?.probes.readiness?.check).toEqual({ kind: "tcp", host: "db", port: 3000 });
    expect(job?.argv).toEqual(["sh", "-c", "echo db $HOME $PATH"]);
    expect(job?.probes.liveness?.check).toEqual({ kind: "exec", argv: ["test", "-n", "db"], shell: false });
  });

  it("lets the environment win over .env", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: run ${PORT}");
    const manifest = parseManifest(text, FILE, options({ PORT: "1" }, "PORT=2\n"));
    expect(manifest.services[0]?.argv).toEqual(["run", "1"]);
  });

  it("leaves a shell command's $VAR to the shell", () => {
    const text = lines("version: 1", "services:", "  api:", '    command: echo "$HOME" ${PORT} $${PORT}', "    shell: true");
    expect(parseManifest(text, FILE, options({ PORT: "1" })).services[0]?.argv).toEqual(["/bin/sh", "-c", 'echo "$HOME" 1 ${PORT}']);
  });

  it("does not interpolate keys, names or other values", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: x", "    description: ${NOT_SET}", "    env:", "      ${K}: v");
    expect(problems(text, options({}))).toEqual([
      expect.stringMatching(/^\/srv\/app\/supervisor\.yaml:7:7: services\.api\.env\.\$\{K\}: an environment variable name/),
    ]);
  });

  it("points at the $ of an unset variable, in plain, quoted and block strings", () => {
    const text = lines(
      "version: 1",
      "services:",
      "  api:",
      "    command: node api.js --port ${PORT}",
      '    cwd: "a\\tb/${DIR}"',
      "    env:",
      "      A: 'it''s ${A_VAL}'",
      "      B: |",
      "        first line",
      "        x ${B_VAL:?B_VAL is the database URL}",
      "    env_file: $${literal}/${ENV_DIR}",
      "  job:",
      "    command: [run, '${ARG}']",
    );
    expect(problems(text, options({}), "supervisor.yaml")).toEqual([
      expect.stringMatching(/^supervisor\.yaml:4:33: services\.api\.command: variable PORT is not set; set it in the environment or in \.env beside the manifest, or give a default: \$\{PORT:-…\}$/),
      expect.stringMatching(/^supervisor\.yaml:5:16: services\.api\.cwd: variable DIR is not set/),
      expect.stringMatching(/^supervisor\.yaml:7:17: services\.api\.env\.A: variable A_VAL is not set/),
      "supervisor.yaml:10:11: services.api.env.B: B_VAL: B_VAL is the database URL",
      expect.stringMatching(/^supervisor\.yaml:11:27: services\.api\.env_file: variable ENV_DIR is not set/),
      expect.stringMatching(/^supervisor\.yaml:13:21: services\.job\.command\.1: variable ARG is not set/),
    ]);
  });

  it("reports malformed references at their $, with what to write instead", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: run ${PORT", "    cwd: ${}", "    env: { X: '${1A}' }");
    expect(problems(text, options({}), "supervisor.yaml")).toEqual([
      expect.stringMatching(/^supervisor\.yaml:4:18: services\.api\.command: unterminated "\$\{PORT": no closing \}; write \$\{NAME\}/),
      expect.stringMatching(/^supervisor\.yaml:5:10: services\.api\.cwd: empty variable name/),
      expect.stringMatching(/^supervisor\.yaml:6:16: services\.api\.env\.X: bad variable name at "1"/),
    ]);
  });

  it("reports the .env file's own problems at its lines", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: run ${PORT}");
    expect(problems(text, options({}, "PORT=1\nnot a line\n"))).toEqual(["/srv/app/.env:2:1: expected KEY=VALUE"]);
  });

  it("shows the document as it runs, with secret variables masked", () => {
    const text = lines("version: 1", "services:", "  api:", "    command: run --token ${API_TOKEN} --port ${PORT}", "    env: { DB: '${DB_PASSWORD:-dev}' }");
    const { shown } = parseManifestDocument(text, FILE, options({ API_TOKEN: "t0k3n", PORT: "1" }));
    expect(shown).toEqual({ version: 1, services: { api: { command: "run --token *** --port 1", env: { DB: "***" } } } });
  });
});
