// The published JSON Schema (what editors check as you type) against `vigil check`: both accept the
// example manifests, both reject each manifest of BAD; a few problems only the loader can see.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vigil, type CliResult } from "../support/stack.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SERVICE = "version: 1\nservices:\n  api:\n    command: node api.js\n";
const withApi = (lines: string): string => `${SERVICE}${lines}`;

/** valid manifests beyond the repository's examples */
const GOOD: Readonly<Record<string, string>> = {
  "variables.yaml": withApi(
    "    cwd: ${APP_DIR:-.}\n    probes:\n      liveness: { http: 'http://${HOST:-127.0.0.1}:${PORT:-80}/health' }\n      readiness: { tcp: '${HOST:-127.0.0.1}:${PORT:-80}' }\nhttp: { listen: '${LISTEN:-127.0.0.1:9876}' }\n",
  ),
  "signals.yaml": withApi("    stop: { signal: term }\n  b:\n    command: [x]\n    stop: { signal: SigInt }\n"),
  "addresses.yaml": withApi("    probes:\n      liveness: { http: 'HTTPS://example.com', interval: 1s }\n      readiness: { tcp: '[::1]:08080' }\nhttp: { listen: 'localhost:9876' }\n"),
  "alerts.yaml": withApi("alerts:\n  - { on: [fatal], telegram: { token_env: T, chat_id_env: C }, format: telegram }\n  - { on: [failed], command: ./notify.sh, shell: true }\n"),
};

/** manifests `vigil check` rejects, and the schema must too */
const BAD: Readonly<Record<string, string>> = {
  "empty-command.yaml": "version: 1\nservices:\n  api:\n    command: '  '\n",
  "empty-command-list.yaml": "version: 1\nservices:\n  api:\n    command: []\n",
  "empty-program.yaml": "version: 1\nservices:\n  api:\n    command: ['', x]\n",
  "unknown-signal.yaml": withApi("    stop: { signal: SIGFOO }\n"),
  "probe-with-two-checks.yaml": withApi("    probes:\n      liveness: { http: 'http://127.0.0.1/', tcp: '127.0.0.1:80' }\n"),
  "probe-without-check.yaml": withApi("    probes:\n      liveness: { interval: 1s }\n"),
  "probe-shell-without-exec.yaml": withApi("    probes:\n      liveness: { tcp: '127.0.0.1:80', shell: true }\n"),
  "url-not-http.yaml": withApi("    probes:\n      liveness: { http: 'ftp://127.0.0.1/health' }\n"),
  "url-without-scheme.yaml": withApi("    probes:\n      liveness: { http: 'localhost:3000/health' }\n"),
  "tcp-without-port.yaml": withApi("    probes:\n      readiness: { tcp: '127.0.0.1' }\n"),
  "tcp-port-too-big.yaml": withApi("    probes:\n      readiness: { tcp: '127.0.0.1:70000' }\n"),
  "tcp-port-zero.yaml": withApi("    probes:\n      readiness: { tcp: 'db:000' }\n"),
  "limits-without-limit.yaml": withApi("    limits: { for: 10s }\n"),
  "zero-interval.yaml": withApi("resources: { interval: 0s }\n"),
  "zero-stale-after.yaml": withApi("    logs: { stale_after: 0 }\n"),
  "zero-cpu.yaml": withApi("    limits: { cpu: 0% }\n"),
  "bad-duration.yaml": withApi("    stop: { timeout: 5 sec }\n"),
  "no-services.yaml": "version: 1\nservices: {}\n",
  "unknown-key.yaml": withApi("    comand: x\n"),
  "version-2.yaml": "version: 2\nservices:\n  api:\n    command: x\n",
  "bad-service-name.yaml": "version: 1\nservices:\n  -api:\n    command: x\n",
  "bad-env-name.yaml": withApi("    env: { 1X: a }\n"),
  "unknown-policy.yaml": withApi("    restart: { policy: sometimes }\n"),
  "unknown-condition.yaml": withApi("  web:\n    command: x\n    depends_on: { api: ready }\n"),
  "negative-replicas.yaml": withApi("    replicas: -1\n"),
  "nul-in-cwd.yaml": withApi('    cwd: "a\\0b"\n'),
  "open-http.yaml": withApi("http: { listen: '0.0.0.0:9876' }\n"),
  "alert-two-targets.yaml": withApi("alerts:\n  - { on: [fatal], webhook: 'https://x.example/', command: ./x }\n"),
  "alert-no-target.yaml": withApi("alerts:\n  - { on: [fatal] }\n"),
  "alert-format-on-command.yaml": withApi("alerts:\n  - { on: [fatal], command: ./x, format: slack }\n"),
  "alert-shell-on-webhook.yaml": withApi("alerts:\n  - { on: [fatal], webhook: 'https://x.example/', shell: true }\n"),
  "alert-telegram-format.yaml": withApi("alerts:\n  - { on: [fatal], url_env: U, format: telegram }\n"),
  "alert-telegram-slack.yaml": withApi("alerts:\n  - { on: [fatal], telegram: { token_env: T, chat_id_env: C }, format: slack }\n"),
  "alert-bad-webhook.yaml": withApi("alerts:\n  - { on: [fatal], webhook: 'hooks.example/x' }\n"),
};

/** what only the loader can judge: the schema accepts these, `vigil check` does not */
const LOADER_ONLY: Readonly<Record<string, string>> = {
  "unknown-dependency.yaml": withApi("    depends_on: [db]\n"),
  "dependency-cycle.yaml": "version: 1\nservices:\n  a: { command: x, depends_on: [b] }\n  b: { command: x, depends_on: [a] }\n",
  "duration-too-long.yaml": withApi("    stop: { timeout: 30d }\n"),
  "unset-variable.yaml": withApi("    env: { URL: '${VIGIL_TEST_SURELY_UNSET}' }\n"),
};

describe("the published JSON Schema and vigil check", () => {
  let dir = "";
  let validate: (data: unknown) => boolean;
  const checked = new Map<string, CliResult>();
  const accepts = (file: string): Promise<boolean> => readFile(join(dir, file), "utf8").then((text) => validate(parse(text)));

  beforeAll(async () => {
    const schema = JSON.parse(await readFile(join(ROOT, "schema/supervisor.schema.json"), "utf8")) as object;
    validate = new Ajv2020({ strict: true, strictRequired: false, strictTuples: false, allowUnionTypes: true }).compile(schema);
    dir = await mkdtemp(join(tmpdir(), "vigil-schema-"));
    await cp(join(ROOT, "test/export/fixtures/every-key"), join(dir, "every-key"), { recursive: true });
    await writeFile(join(dir, "example.yaml"), await readFile(join(ROOT, "supervisor.yaml")));
    for (const [name, text] of Object.entries({ ...GOOD, ...BAD, ...LOADER_ONLY })) await writeFile(join(dir, name), text);
    const files = ["example.yaml", "every-key/supervisor.yaml", ...Object.keys({ ...GOOD, ...BAD, ...LOADER_ONLY })];
    // a few at a time: each is a node process
    for (let i = 0; i < files.length; i += 4) {
      await Promise.all(files.slice(i, i + 4).map(async (file) => checked.set(file, await vigil(["check", "-f", file], dir))));
    }
  }, 120_000);
  afterAll(async () => {
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  it.each(["example.yaml", "every-key/supervisor.yaml", ...Object.keys(GOOD)])("both accept %s", async (file) => {
    expect(checked.get(file)).toMatchObject({ code: 0, stderr: "" });
    expect(await accepts(file)).toBe(true);
  });

  it.each(Object.keys(BAD))("both reject %s", async (file) => {
    expect(checked.get(file)?.code).toBe(2);
    expect(checked.get(file)?.stderr).toMatch(new RegExp(`^${file.replace(".", "\\.")}:\\d+:\\d+: `));
    expect(await accepts(file)).toBe(false);
  });

  it.each(Object.keys(LOADER_ONLY))("leaves %s to vigil check, which rejects it", async (file) => {
    expect(checked.get(file)?.code).toBe(2);
    expect(await accepts(file)).toBe(true);
  });
});
