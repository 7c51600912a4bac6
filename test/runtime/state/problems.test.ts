import { describe, expect, it } from "vitest";
import type { Logger, LogLevel } from "../../../src/runtime/outputs/logger.js";
import { describeError, problemKind, Problems } from "../../../src/runtime/state/problems.js";
import { StateDirError } from "../../../src/runtime/state/state-dir.js";
import { FakeClock } from "../../support/fake-clock.js";

const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
const emfile = Object.assign(new Error("EMFILE: too many open files, open '/s/status.json.1.tmp'"), { code: "EMFILE" });

function setup() {
  const clock = new FakeClock();
  const lines: { level: LogLevel; event: string; msg: string }[] = [];
  const logger: Logger = { log: (level, _service, event, msg) => lines.push({ level, event, msg }), flush: () => Promise.resolve() };
  let changes = 0;
  const problems = new Problems({ stateDir: "/srv/app/.vigil", clock, logger, changed: () => changes++ });
  return { clock, lines, problems, changes: () => changes };
}

describe("Problems", () => {
  it("logs a failing file once however often it fails, and once when it is written again", () => {
    const { clock, lines, problems, changes } = setup();
    const status = problems.writes("status.json");
    status.succeeded();
    expect(problems.list()).toEqual([]);
    for (let i = 0; i < 50; i++) status.failed(enospc, "/srv/app/.vigil/status.json");
    expect(lines).toEqual([{ level: "error", event: "problem", msg: "cannot write status.json: no space left on device (ENOSPC)" }]);
    expect(problems.list()).toEqual([{ kind: "disk", message: "cannot write status.json: no space left on device (ENOSPC)", since: "2026-11-22T10:00:00.000Z" }]);
    clock.advance(90_000);
    status.succeeded();
    status.succeeded();
    expect(lines.at(-1)).toEqual({ level: "info", event: "problem-over", msg: "status.json is written again (after 1.5m)" });
    expect(lines).toHaveLength(2);
    expect(problems.list()).toEqual([]);
    expect(changes()).toBe(2);
  });

  it("keeps one problem for a family of files, named by the first that failed", () => {
    const { lines, problems } = setup();
    const logs = problems.writes("logs");
    logs.failed(enospc, "/srv/app/.vigil/logs/api.log");
    logs.failed(enospc, "/srv/app/.vigil/logs/db.log");
    expect(problems.list().map((p) => p.message)).toEqual(["cannot write logs/api.log: no space left on device (ENOSPC)"]);
    expect(lines).toHaveLength(1);
  });

  it("says it again when the kind of failure changes", () => {
    const { lines, problems } = setup();
    const status = problems.writes("status.json");
    status.failed(enospc, "/srv/app/.vigil/status.json");
    status.failed(emfile, "/srv/app/.vigil/status.json");
    expect(lines.map((l) => l.msg)).toEqual([
      "cannot write status.json: no space left on device (ENOSPC)",
      "cannot write status.json: too many open files (EMFILE)",
    ]);
    expect(problems.list().map((p) => p.kind)).toEqual(["fds"]);
  });

  it("does not log a disk at the brink on every flap: once a minute, with a count", () => {
    const { clock, lines, problems } = setup();
    const status = problems.writes("status.json");
    for (let i = 0; i < 10; i++) {
      status.failed(enospc, "/srv/app/.vigil/status.json");
      clock.advance(1000);
      status.succeeded();
      clock.advance(1000);
    }
    // the first episode, begun and ended; the other nine are in the list while they last, not in the log
    expect(lines).toHaveLength(2);
    clock.advance(60_000);
    status.failed(enospc, "/srv/app/.vigil/status.json");
    expect(lines.at(-1)?.msg).toBe("cannot write status.json: no space left on device (ENOSPC) (and 9 more times in the last 1m)");
  });
});

describe("problemKind and describeError", () => {
  it("sorts failures by what a person would do about them", () => {
    for (const code of ["ENOSPC", "EDQUOT", "EIO", "EROFS"]) expect(problemKind(Object.assign(new Error(code), { code }))).toBe("disk");
    for (const code of ["EMFILE", "ENFILE"]) expect(problemKind(Object.assign(new Error(code), { code }))).toBe("fds");
    expect(problemKind(new StateDirError("x is a symbolic link", "x"))).toBe("state-dir");
    expect(problemKind(Object.assign(new Error("EACCES"), { code: "EACCES" }))).toBe("write");
  });

  it("keeps the words and the code of Node's message, without the call and the path", () => {
    expect(describeError(emfile)).toBe("too many open files (EMFILE)");
    expect(describeError(new StateDirError("/s/x is a symbolic link", "/s/x"))).toBe("/s/x is a symbolic link");
    expect(describeError("odd")).toBe("odd");
  });
});
