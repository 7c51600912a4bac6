import { describe, expect, it } from "vitest";
import { ManifestError } from "../../src/manifest/errors.js";
import { parseManifest } from "../../src/manifest/load.js";

const MANIFEST = `version: 1
services:
  db:
    command: redis-server
    heartbeat:
      via: notify
      interval: 2s
  plain:
    command: sleep 100
`;

describe("heartbeat.via: notify", () => {
  it("is a transport of the manifest", () => {
    const manifest = parseManifest(MANIFEST, "supervisor.yaml", { notifyUnavailable: () => null });
    expect(manifest.services[0]?.heartbeat).toMatchObject({ via: "notify", intervalMs: 2000 });
  });

  it("is refused at its key, in one line, where datagram sockets cannot be had", () => {
    const error = (() => {
      try {
        parseManifest(MANIFEST, "supervisor.yaml", { notifyUnavailable: () => "the optional module unix-dgram cannot be loaded (gone)" });
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).format()).toBe(
      "supervisor.yaml:6:12: services.db.heartbeat.via: heartbeat.via: notify is unavailable: the optional module unix-dgram cannot be loaded (gone)",
    );
  });

  it("asks whether it is available only of a manifest that uses it", () => {
    let asked = 0;
    parseManifest("version: 1\nservices:\n  a: { command: sleep 1 }\n", "s.yaml", { notifyUnavailable: () => (asked++, "no") });
    expect(asked).toBe(0);
  });

  it("loads the real module here", async () => {
    const { notifyUnavailable } = await import("../../src/runtime/notify/unix-dgram.js");
    expect(notifyUnavailable()).toBeNull();
  });
});
