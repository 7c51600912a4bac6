// `schedule:` has no mapping yet: both exports name it in a warning rather than drop it silently.
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/manifest/load.js";
import { exportSystemd } from "../../src/export/systemd.js";
import { exportKubernetes } from "../../src/export/kubernetes.js";
import { inUsrBin } from "./load-fixture.js";

const manifest = parseManifest(`version: 1
services:
  backup:
    command: /bin/true
    schedule: { cron: "*/5 * * * *", timezone: Europe/Paris }
`, "/srv/s/supervisor.yaml");

describe("schedule in an export", () => {
  it("is named as not mapped to systemd", () => {
    const losses = exportSystemd({ manifest, stackName: "s", envFiles: new Map(), findProgram: inUsrBin }).losses;
    expect(losses).toContainEqual(expect.objectContaining({ subject: "backup", key: "schedule", why: expect.stringContaining('"*/5 * * * *"') }));
  });

  it("is named as not mapped to Kubernetes", () => {
    const losses = exportKubernetes({ manifest, stackName: "s", envFiles: new Map() }).losses;
    expect(losses).toContainEqual(expect.objectContaining({ subject: "backup", key: "schedule" }));
  });
});
