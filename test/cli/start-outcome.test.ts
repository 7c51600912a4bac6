import { describe, expect, it } from "vitest";
import type { ServiceDoc } from "../../src/control/status-document.js";
import { startFailures } from "../../src/cli/start-outcome.js";

const doc = (name: string, state: ServiceDoc["state"], last_exit: ServiceDoc["last_exit"] = null, waiting_for: string[] = []): ServiceDoc =>
  ({ name, state, last_exit, waiting_for }) as unknown as ServiceDoc;

describe("what failed to start", () => {
  it("counts running services and jobs that exited 0 as started", () => {
    expect(startFailures([doc("api", "running"), doc("migrate", "exited", { code: 0, signal: null, reason: "exit", at: "" })])).toEqual([]);
  });

  it("names services in backoff or fatal, and jobs that exited badly, with why", () => {
    expect(
      startFailures([
        doc("ghost", "backoff", { code: null, signal: null, reason: "exit", at: "", error: "spawn ./x ENOENT" }),
        doc("crash", "fatal", { code: 3, signal: null, reason: "exit", at: "" }),
        doc("job", "exited", { code: 1, signal: null, reason: "exit", at: "" }),
      ]),
    ).toEqual([
      { name: "ghost", why: "failed to start, retrying: spawn ./x ENOENT" },
      { name: "crash", why: "failed to start, gave up: exit status 3" },
      { name: "job", why: "exited: exit status 1" },
    ]);
  });

  it("names what is still starting when the wait ran out", () => {
    expect(startFailures([doc("api", "starting", null, ["db"])])).toEqual([{ name: "api", why: "still waiting for db" }]);
  });
});
