// The mappings the golden files cannot show: heartbeat.via notify (not in the manifest schema yet)
// and the arithmetic of the restart delays.
import { describe, expect, it } from "vitest";
import type { HeartbeatTransport, Manifest, ServiceConfig } from "../../src/manifest/types.js";
import { parseManifest } from "../../src/manifest/load.js";
import { exportSystemd } from "../../src/export/systemd.js";
import { restartKeys } from "../../src/export/systemd-restart.js";
import { inUsrBin } from "./load-fixture.js";

const MANIFEST = `version: 1
services:
  db:
    command: /bin/sleep 300
    heartbeat: { via: socket, interval: 5s, misses: 3, startup_grace: 40s }
  api:
    command: /bin/sleep 300
    depends_on: { db: healthy }
`;

function withVia(manifest: Manifest, name: string, via: string): Manifest {
  const services = manifest.services.map((service): ServiceConfig =>
    service.name === name && service.heartbeat !== null ? { ...service, heartbeat: { ...service.heartbeat, via: via as HeartbeatTransport } } : service,
  );
  return { ...manifest, services };
}

function exportOf(manifest: Manifest) {
  return exportSystemd({ manifest, stackName: "s", envFiles: new Map(), findProgram: inUsrBin });
}

describe("heartbeat.via notify", () => {
  const manifest = withVia(parseManifest(MANIFEST, "/srv/s/supervisor.yaml"), "db", "notify");

  it("becomes Type=notify with a watchdog of misses × interval and startup_grace to send READY=1", () => {
    const db = exportOf(manifest).files.find((file) => file.name === "s-db.service")?.text ?? "";
    expect(db).toContain("Type=notify\nNotifyAccess=all\nWatchdogSec=15s\nTimeoutStartSec=40s\n");
    expect(db).not.toContain("Type=exec");
  });

  it("makes depends_on: healthy exact, since systemd waits for READY=1", () => {
    const losses = exportOf(manifest).losses.map((loss) => `${loss.subject}: ${loss.key}`);
    expect(losses).toContain("db: heartbeat.via");
    expect(losses).not.toContain("api: depends_on.db");
    expect(losses).not.toContain("db: heartbeat");
  });

  it("names the gap for socket heartbeats instead", () => {
    const losses = exportOf(parseManifest(MANIFEST, "/srv/s/supervisor.yaml")).losses.map((loss) => `${loss.subject}: ${loss.key}`);
    expect(losses).toEqual(expect.arrayContaining(["db: heartbeat", "api: depends_on.db"]));
  });
});

describe("restart delays", () => {
  const restart = (initialMs: number, factor: number, maxMs: number) =>
    restartKeys({ policy: "always", backoff: { initialMs, factor, maxMs, jitter: 0, resetAfterMs: 60_000 }, maxRestarts: 5, windowMs: 60_000, mode: "stop-first", readyTimeoutMs: 30_000 }, false);

  it("meets the factor exactly when it lands on max", () => {
    const keys = restart(1000, 2, 16_000);
    expect(keys.service).toEqual(["Restart=always", "RestartSec=1s", "RestartSteps=4", "RestartMaxDelaySec=16s"]);
    expect(keys.lost.map(([key]) => key)).toEqual(["restart.backoff.reset_after"]);
    expect(keys.unit).toEqual(["StartLimitIntervalSec=1min", "StartLimitBurst=6"]);
  });

  it("names the nearest factor otherwise", () => {
    const keys = restart(200, 2, 30_000);
    expect(keys.service).toContain("RestartSteps=8");
    expect(keys.lost.find(([key]) => key === "restart.backoff.factor")?.[1]).toMatch(/each 1\.87× the last/);
  });

  it("keeps a constant delay with factor 1, and refuses Restart=always for a oneshot", () => {
    expect(restart(500, 1, 30_000).service).toEqual(["Restart=always", "RestartSec=500ms"]);
    const oneshot = restartKeys({ policy: "always", backoff: { initialMs: 0, factor: 1, maxMs: 0, jitter: 0, resetAfterMs: 0 }, maxRestarts: 0, windowMs: 1000, mode: "stop-first", readyTimeoutMs: 30_000 }, true);
    expect(oneshot.service[0]).toBe("Restart=on-failure");
    expect(oneshot.lost.map(([key]) => key)).toContain("restart.policy");
  });
});
