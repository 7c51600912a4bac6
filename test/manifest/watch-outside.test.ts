// The manifest keys of issue 19 as `vigil check` judges them: each problem at its FILE:LINE:COL, with a
// "did you mean" for a misspelt key, and the resolved forms of what is accepted.
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/manifest/load.js";
import { problems } from "../support/manifest.js";

const lines = (...text: string[]): string => `${text.join("\n")}\n`;

describe("adopt, ping, actions and heartbeat.unmanaged in the manifest", () => {
  it("resolves an adopted service, a ping check and actions", () => {
    const manifest = parseManifest(
      lines(
        "version: 1",
        "heartbeat: { unmanaged: true, token_env: UM_TOKEN }",
        "checks: { cpu: { warn: 70% }, memory: { critical: 90% } }",
        "services:",
        "  kurultai:",
        "    adopt: { pidfile: /tmp/heartbeat.pid }",
        "    command: python3 heartbeat_master.py",
        "    heartbeat: { interval: 30s, token_env: KURULTAI_TOKEN }",
        "    logs: { file: heartbeat.log, stale_after: 10m }",
        "    actions:",
        "      critical: { run: dump-stack.sh }",
        "      failed: { run: [notify, gateway], then: none, timeout: 5s }",
        "  backup:",
        '    ping: { cron: "0 3 * * *", grace: 10m, token_env: BACKUP_TOKEN }',
      ),
      "/srv/app/supervisor.yaml",
    );
    const kurultai = manifest.services.find((s) => s.name === "kurultai");
    expect(kurultai).toMatchObject({
      adopt: { pidfile: "/tmp/heartbeat.pid", match: null, pollMs: 1_000, startTimeoutMs: 30_000, onStop: "release" },
      heartbeat: { via: "socket", intervalMs: 30_000, tokenEnv: "KURULTAI_TOKEN" },
      logs: { file: "/srv/app/heartbeat.log", staleAfterMs: 600_000 },
      actions: {
        critical: { argv: ["dump-stack.sh"], then: "none", timeoutMs: 30_000 },
        failed: { argv: ["notify", "gateway"], then: "none", timeoutMs: 5_000 },
      },
    });
    expect(manifest.services.map((s) => s.name)).toEqual(["kurultai"]);
    expect(manifest.pings).toEqual([{ name: "backup", everyMs: null, cron: "0 3 * * *", timezone: null, graceMs: 600_000, tokenEnv: "BACKUP_TOKEN" }]);
    expect(manifest.unmanaged).toEqual({ tokenEnv: "UM_TOKEN", expireAfterMs: 600_000, max: 100 });
    expect(manifest.checks).toMatchObject({ cpu: { warnPercent: 70, criticalPercent: 95 }, memory: { warnPercent: 85, criticalPercent: 90 } });
  });

  it("locates every problem, with a did-you-mean for a misspelt key", () => {
    const text = lines(
      "version: 1",
      "heartbeat: { unmanaged: true }",
      "services:",
      "  a:",
      "    adopt: { pidfle: x.pid }",
      "  b:",
      "    adopt: { pidfile: b.pid, match: b }",
      "  c:",
      "    ping: { every: 1h, cron: '* * * * *' }",
      "    command: sleep 1",
      "  d:",
      "    command: x",
      "    actions: { crtical: { run: y } }",
      "  e:",
      "    command: x",
      "    actions: { failed: { run: y, then: maybe } }",
      "  f:",
      "    adopt: { match: '(' }",
    );
    const found = problems(text);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^supervisor\.yaml:2:\d+: heartbeat\.token_env: unmanaged: true needs token_env/),
        expect.stringMatching(/^supervisor\.yaml:5:\d+: services\.a\.adopt\.pidfle: unknown key "pidfle", did you mean "pidfile"\?/),
        expect.stringMatching(/^supervisor\.yaml:7:\d+: services\.b\.adopt: adopt needs exactly one of pidfile or match; found both/),
        expect.stringMatching(/^supervisor\.yaml:9:\d+: services\.c\.ping: ping needs exactly one of every or cron; found both/),
        expect.stringMatching(/^supervisor\.yaml:10:\d+: services\.c\.command: a ping check runs nothing: command does not apply/),
        expect.stringMatching(/^supervisor\.yaml:13:\d+: services\.d\.actions\.crtical: unknown key "crtical", did you mean "critical"\?/),
        expect.stringMatching(/^supervisor\.yaml:16:\d+: services\.e\.actions\.failed\.then: .*restart.*none/),
        expect.stringMatching(/^supervisor\.yaml:18:\d+: services\.f\.adopt\.match: not a regular expression/),
      ]),
    );
  });
});
