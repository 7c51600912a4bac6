import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/manifest/load.js";
import { problems } from "../support/manifest.js";

const lines = (...text: string[]): string => `${text.join("\n")}\n`;
const SERVICES = ["version: 1", "services:", "  api:", "    command: node app.js", "  web:", "    command: node web.js"];

describe("alerts in the manifest", () => {
  it("has none unless the manifest says so", () => {
    expect(parseManifest(lines(...SERVICES), "/srv/supervisor.yaml").alerts).toEqual([]);
  });

  it("resolves webhook, telegram and command rules with their defaults", () => {
    const manifest = parseManifest(
      lines(
        ...SERVICES,
        "alerts:",
        "  - on: [failed, fatal, restart]",
        "    services: [api]",
        "    webhook: https://hooks.example.com/vigil",
        "  - on: [fatal, recovered]",
        "    url_env: SLACK_WEBHOOK_URL",
        "    format: slack",
        "    cooldown: 10m",
        "    retries: 5",
        "    retry_backoff: 2s",
        "  - on: [fatal]",
        "    telegram: { token_env: TG_TOKEN, chat_id_env: TG_CHAT }",
        "  - on: [degraded, critical, recovered]",
        "    command: ./notify.sh --loud",
        "    timeout: 3s",
      ),
      "/srv/supervisor.yaml",
    );
    expect(manifest.alerts).toEqual([
      {
        on: ["failed", "fatal", "restart"],
        services: ["api"],
        target: { kind: "webhook", url: "https://hooks.example.com/vigil", urlEnv: null, format: "json" },
        cooldownMs: 300_000,
        timeoutMs: 5_000,
        retries: 3,
        retryBackoffMs: 1_000,
      },
      {
        on: ["fatal", "recovered"],
        services: null,
        target: { kind: "webhook", url: null, urlEnv: "SLACK_WEBHOOK_URL", format: "slack" },
        cooldownMs: 600_000,
        timeoutMs: 5_000,
        retries: 5,
        retryBackoffMs: 2_000,
      },
      {
        on: ["fatal"],
        services: null,
        target: { kind: "telegram", tokenEnv: "TG_TOKEN", chatIdEnv: "TG_CHAT", apiUrl: "https://api.telegram.org" },
        cooldownMs: 300_000,
        timeoutMs: 5_000,
        retries: 3,
        retryBackoffMs: 1_000,
      },
      {
        on: ["degraded", "critical", "recovered"],
        services: null,
        target: { kind: "command", argv: ["./notify.sh", "--loud"], shell: false, display: "./notify.sh --loud", cwd: "/srv" },
        cooldownMs: 300_000,
        timeoutMs: 3_000,
        retries: 0,
        retryBackoffMs: 1_000,
      },
    ]);
  });

  it("suggests the alert kind meant by a typo", () => {
    const text = lines(...SERVICES, "alerts:", "  - on: [restrat]", "    webhook: http://127.0.0.1:9000/");
    expect(problems(text)).toEqual([
      'supervisor.yaml:8:10: alerts.0.on.0: invalid value "restrat" (expected failed, fatal, restart, degraded, critical, recovered, spawn-failed, rollover-failed, config-rejected, limit, disk, task-stale or task-timeout), did you mean "restart"?',
    ]);
  });

  it("needs exactly one of webhook, url_env, telegram or command", () => {
    expect(problems(lines(...SERVICES, "alerts:", "  - on: [fatal]"))).toEqual([
      "supervisor.yaml:8:5: alerts.0: an alert rule needs exactly one of webhook, url_env, telegram or command",
    ]);
    expect(problems(lines(...SERVICES, "alerts:", "  - on: [fatal]", "    webhook: http://a.example/", "    command: notify"))).toEqual([
      "supervisor.yaml:8:5: alerts.0: an alert rule needs exactly one of webhook, url_env, telegram or command; found webhook and command",
    ]);
  });

  it("names unknown services, unknown keys, and options that do not apply", () => {
    const text = lines(
      ...SERVICES,
      "alerts:",
      "  - on: [fatal]",
      "    services: [apj]",
      "    command: notify",
      "    format: slack",
      "    coldown: 1m",
    );
    expect(problems(text)).toEqual([
      'supervisor.yaml:9:16: alerts.0.services.0: unknown service "apj", did you mean "api"?',
      "supervisor.yaml:11:5: alerts.0.format: format applies only to webhooks; a command gets the alert as JSON on stdin",
      'supervisor.yaml:12:5: alerts.0.coldown: unknown key "coldown", did you mean "cooldown"?',
    ]);
    expect(problems(lines(...SERVICES, "alerts:", "  - on: [fatal]", "    webhook: http://a.example/", "    format: telegram"))).toEqual([
      "supervisor.yaml:10:13: alerts.0.format: format telegram needs telegram: { token_env, chat_id_env }",
    ]);
  });

  it("takes environment variable names, never values, for secrets", () => {
    const text = lines(...SERVICES, "alerts:", "  - on: [fatal]", "    telegram: { token_env: 123:abcdef, chat_id_env: TG_CHAT }");
    expect(problems(text)).toEqual([
      "supervisor.yaml:9:28: alerts.0.telegram.token_env: an environment variable name takes letters, digits and _, not starting with a digit",
    ]);
  });
});
