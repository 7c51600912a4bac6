import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/manifest/load.js";
import { problems } from "../support/manifest.js";

const lines = (...text: string[]): string => `${text.join("\n")}\n`;
const job = (...schedule: string[]): string => lines("version: 1", "services:", "  backup:", "    command: ./backup.sh", "    schedule:", ...schedule);

describe("schedule in the manifest", () => {
  it("has no schedule unless one is written", () => {
    const [service] = parseManifest(lines("version: 1", "services:", "  api:", "    command: x"), "/srv/supervisor.yaml").services;
    expect(service?.schedule).toBeNull();
  });

  it("defaults to the supervisor's time zone, no run on start and skipping overlapping ticks", () => {
    const [service] = parseManifest(job('      cron: "*/5 * * * *"'), "/srv/supervisor.yaml").services;
    expect(service?.schedule).toEqual({ cron: "*/5 * * * *", timezone: null, runOnStart: false, overlap: "skip" });
  });

  it("takes a time zone, run_on_start, an overlap policy and a six-field expression with seconds", () => {
    const text = job('      cron: "*/2 * * * * *"', "      timezone: Europe/Paris", "      run_on_start: true", "      overlap: replace");
    const [service] = parseManifest(text, "/srv/supervisor.yaml").services;
    expect(service?.schedule).toEqual({ cron: "*/2 * * * * *", timezone: "Europe/Paris", runOnStart: true, overlap: "replace" });
  });

  it("points at an invalid cron expression", () => {
    expect(problems(job('      cron: "61 * * * *"'))).toEqual([
      'supervisor.yaml:6:13: services.backup.schedule.cron: invalid cron expression "61 * * * *": Invalid value for minute: 61',
    ]);
  });

  it("refuses seven fields and words that are not cron", () => {
    expect(problems(job('      cron: "0 0 0 1 1 * 2030"'))[0]).toMatch(/^supervisor\.yaml:6:13: services\.backup\.schedule\.cron: invalid cron expression/);
    expect(problems(job("      cron: every five minutes"))[0]).toMatch(/^supervisor\.yaml:6:13: services\.backup\.schedule\.cron: invalid cron expression/);
  });

  it("points at an unknown time zone", () => {
    expect(problems(job('      cron: "0 3 * * *"', "      timezone: Mars/Olympus"))).toEqual([
      'supervisor.yaml:7:17: services.backup.schedule.timezone: unknown time zone "Mars/Olympus" (an IANA name such as Europe/Paris or UTC)',
    ]);
  });

  it("points at an unknown overlap policy and a missing cron", () => {
    expect(problems(job("      overlap: parallel"))).toEqual([
      'supervisor.yaml:5:5: services.backup.schedule.cron: missing required key "cron"',
      'supervisor.yaml:6:16: services.backup.schedule.overlap: invalid value "parallel" (expected skip, queue or replace)',
    ]);
  });
});
