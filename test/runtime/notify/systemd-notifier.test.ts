import { describe, expect, it } from "vitest";
import type { Input } from "../../../src/core/stack/inputs.js";
import type { Logger } from "../../../src/runtime/outputs/logger.js";
import { SystemdNotifier } from "../../../src/runtime/notify/systemd-notifier.js";
import { FakeClock } from "../../support/fake-clock.js";

function setup() {
  const clock = new FakeClock();
  const posted: Input[] = [];
  const logged: string[] = [];
  const logger: Logger = { log: (_level, _service, _event, msg) => void logged.push(msg), flush: async () => undefined };
  let summaries = 0;
  const opts = { clock, logger, post: (input: Input) => void posted.push(input), summary: () => `${++summaries} running` };
  return { clock, posted, logged, opts, summaries: () => summaries };
}

describe("SystemdNotifier.fromEnv", () => {
  it("is off without NOTIFY_SOCKET, and says why for an abstract or relative one", () => {
    const { opts, logged } = setup();
    expect(SystemdNotifier.fromEnv({}, 42, opts)).toBeNull();
    expect(SystemdNotifier.fromEnv({ NOTIFY_SOCKET: "@/org/freedesktop/systemd1/notify" }, 42, opts)).toBeNull();
    expect(SystemdNotifier.fromEnv({ NOTIFY_SOCKET: "run/notify" }, 42, opts)).toBeNull();
    expect(logged).toEqual([
      expect.stringMatching(/abstract namespace/),
      expect.stringMatching(/not an absolute path/),
    ]);
  });

  it("pings at half of WATCHDOG_USEC, unless WATCHDOG_PID names another process", () => {
    const { opts } = setup();
    const env = { NOTIFY_SOCKET: "/run/systemd/notify", WATCHDOG_USEC: "30000000" };
    expect(SystemdNotifier.fromEnv(env, 42, opts)?.pingEveryMs).toBe(15_000);
    expect(SystemdNotifier.fromEnv({ ...env, WATCHDOG_PID: "42" }, 42, opts)?.pingEveryMs).toBe(15_000);
    expect(SystemdNotifier.fromEnv({ ...env, WATCHDOG_PID: "7" }, 42, opts)?.pingEveryMs).toBeNull();
    expect(SystemdNotifier.fromEnv({ ...env, WATCHDOG_USEC: "soon" }, 42, opts)?.pingEveryMs).toBeNull();
  });

  it("does not ping by itself: its timer asks the loop, every half interval", () => {
    const { opts, clock, posted } = setup();
    const notifier = SystemdNotifier.fromEnv({ NOTIFY_SOCKET: "/nonexistent/notify", WATCHDOG_USEC: "400000" }, 42, opts)!;
    notifier.start();
    clock.advance(199);
    expect(posted).toEqual([]);
    clock.advance(1);
    clock.advance(200);
    expect(posted).toEqual([{ type: "WatchdogDue" }, { type: "WatchdogDue" }]);
    notifier.close();
    clock.advance(1000);
    expect(posted).toHaveLength(2);
  });

  it("looks at the summary at most once a second, however often the stack changes", () => {
    const { opts, clock, summaries } = setup();
    const notifier = SystemdNotifier.fromEnv({ NOTIFY_SOCKET: "/nonexistent/notify" }, 42, opts)!;
    for (let i = 0; i < 100; i++) {
      notifier.changed();
      clock.advance(30);
    }
    expect(summaries()).toBeGreaterThanOrEqual(3);
    expect(summaries()).toBeLessThanOrEqual(4);
    notifier.close();
  });
});
