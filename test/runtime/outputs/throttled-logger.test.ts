import { describe, expect, it } from "vitest";
import type { Logger } from "../../../src/runtime/outputs/logger.js";
import { throttledLogger } from "../../../src/runtime/outputs/throttled-logger.js";
import { FakeClock } from "../../support/fake-clock.js";

describe("throttledLogger", () => {
  it("lets an error of one kind through once per quiet time, saying how many it held back; info passes", () => {
    const clock = new FakeClock();
    const lines: string[] = [];
    const base: Logger = { log: (level, _s, event, msg) => lines.push(`${level} ${event} ${msg}`), flush: () => Promise.resolve() };
    const logger = throttledLogger(base, clock, 5000);
    for (let i = 0; i < 100; i++) logger.log("error", null, "control-error", "control socket: accept EMFILE");
    logger.log("error", null, "heartbeat-socket", "heartbeat socket: accept EMFILE");
    logger.log("info", null, "http-listening", "listening");
    logger.log("info", null, "http-listening", "listening");
    clock.advance(5000);
    logger.log("error", null, "control-error", "control socket: accept EMFILE");
    expect(lines).toEqual([
      "error control-error control socket: accept EMFILE",
      "error heartbeat-socket heartbeat socket: accept EMFILE",
      "info http-listening listening",
      "info http-listening listening",
      "error control-error control socket: accept EMFILE (and 99 more in the last 5s)",
    ]);
  });
});
