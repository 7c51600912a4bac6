import { describe, expect, it } from "vitest";
import { parseNotify } from "../../src/core/notify-message.js";

describe("parseNotify", () => {
  it("reads the assignments vigil acts on, several to a datagram", () => {
    expect(parseNotify("READY=1\nSTATUS=Ready to accept connections\nWATCHDOG=1\n")).toEqual({
      items: [{ kind: "status", text: "Ready to accept connections" }, { kind: "ready" }, { kind: "watchdog" }],
      ignored: [],
      invalid: 0,
    });
  });

  it("reads WATCHDOG=trigger, STOPPING=1 and EXTEND_TIMEOUT_USEC in microseconds, rounded up to ms", () => {
    expect(parseNotify("WATCHDOG=trigger").items).toEqual([{ kind: "trigger" }]);
    expect(parseNotify("STOPPING=1").items).toEqual([{ kind: "stopping" }]);
    expect(parseNotify("EXTEND_TIMEOUT_USEC=2500001").items).toEqual([{ kind: "extend", ms: 2501 }]);
  });

  it("takes each kind once per datagram, the last status winning", () => {
    const flood = `${"WATCHDOG=1\n".repeat(300)}STATUS=a\nSTATUS=b`;
    expect(parseNotify(flood).items).toEqual([{ kind: "status", text: "b" }, { kind: "watchdog" }]);
  });

  it("ignores by name what applies to a service manager's other features", () => {
    expect(parseNotify("MAINPID=4242\nFDSTORE=1\nERRNO=2\nBUSERROR=org.x.Y\nREADY=1")).toEqual({
      items: [{ kind: "ready" }],
      ignored: ["MAINPID", "FDSTORE", "ERRNO", "BUSERROR"],
      invalid: 0,
    });
  });

  it("counts lines that are not assignments, and known keys with values the protocol lacks", () => {
    expect(parseNotify("hello\n=1\nready=1\nREADY=2\nWATCHDOG=0\nEXTEND_TIMEOUT_USEC=-5\nA\u0000B=1")).toEqual({ items: [], ignored: [], invalid: 7 });
    expect(parseNotify("garbage\nWATCHDOG=1").items).toEqual([{ kind: "watchdog" }]);
  });

  it("keeps an empty STATUS (clearing it) and cuts a long one", () => {
    expect(parseNotify("STATUS=").items).toEqual([{ kind: "status", text: "" }]);
    expect(parseNotify(`STATUS=${"x".repeat(3000)}`).items[0]).toEqual({ kind: "status", text: "x".repeat(1024) });
  });
});
