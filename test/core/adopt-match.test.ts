// Finding an adopted process: a pidfile's pid, or the one process whose command line matches.
import { describe, expect, it } from "vitest";
import { pickMatch, pidOfPidfile } from "../../src/core/adopt-match.js";

describe("adopt matching", () => {
  it("takes a pidfile's pid, with whitespace around it, and names what is wrong otherwise", () => {
    expect(pidOfPidfile("/run/x.pid", " 4123\n")).toEqual({ ok: true, pid: 4123 });
    expect(pidOfPidfile("/run/x.pid", null)).toEqual({ ok: false, error: "pidfile /run/x.pid cannot be read" });
    expect(pidOfPidfile("/run/x.pid", "abc")).toMatchObject({ ok: false, error: expect.stringContaining("holds no pid") });
    expect(pidOfPidfile("/run/x.pid", "0")).toMatchObject({ ok: false });
  });

  it("needs exactly one matching process, never counting the excluded ones", () => {
    const procs = [
      { pid: 10, cmdline: "python3 heartbeat_master.py --loop" },
      { pid: 11, cmdline: "vigil up" },
      { pid: 12, cmdline: "grep heartbeat_master" },
    ];
    expect(pickMatch("heartbeat_master\\.py", procs, new Set())).toEqual({ ok: true, pid: 10 });
    expect(pickMatch("heartbeat_master", procs, new Set([12]))).toEqual({ ok: true, pid: 10 });
    const two = pickMatch("heartbeat_master", procs, new Set());
    expect(two).toMatchObject({ ok: false, error: expect.stringContaining("2 processes match /heartbeat_master/, exactly one must: 10 (python3") });
    expect(pickMatch("nothing-like-it", procs, new Set())).toEqual({ ok: false, error: "no running process matches /nothing-like-it/" });
  });
});
