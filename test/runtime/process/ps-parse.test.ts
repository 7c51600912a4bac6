import { describe, expect, it } from "vitest";
import { parseCpuTime, parseEnvironLines, parseLstart, parsePsLine, parsePsOutput, psEnvironmentFlag, psFields } from "../../../src/runtime/process/ps-parse.js";

describe("ps output", () => {
  it("reads a Linux procps line, lstart's five words and the command's blanks included", () => {
    const line = "  4123  4100  4123  4100 S Sun Dec  6 19:04:19 2026 48232 00:01:22 node api.js --port 3000";
    expect(parsePsLine(line, true)).toEqual({
      pid: 4123,
      ppid: 4100,
      pgid: 4123,
      session: 4100,
      state: "S",
      startTime: Date.UTC(2026, 11, 6, 19, 4, 19) / 1000,
      rssKiB: 48232,
      cpuCentis: 8200,
      command: "node api.js --port 3000",
    });
  });

  it("reads a macOS line: no session, hundredths of a second, minutes past 60", () => {
    const row = parsePsLine("  512     1   512 Ss   Mon Jan  5 08:00:00 2026   2048 123:04.56 /usr/sbin/sshd -D", false);
    expect(row).toMatchObject({ pid: 512, ppid: 1, pgid: 512, session: -1, state: "S", rssKiB: 2048, cpuCentis: (123 * 60 + 4) * 100 + 56, command: "/usr/sbin/sshd -D" });
  });

  it("takes a line without the command (what a sweep asks for) and a zombie", () => {
    expect(parsePsLine("77 1 77 77 Z Tue Feb 10 23:59:59 2026 0 00:00:00", true)).toMatchObject({ pid: 77, state: "Z", command: "" });
  });

  it("leaves out lines that do not read as a process, and keeps the rest", () => {
    const text = ["garbage", "1 0 1 1 S Sun Dec  6 19:04:19 2026 100 00:00:01 init", "2 0 0 0 S Sun Foo  6 19:04:19 2026 0 00:00:00 x", ""].join("\n");
    expect(parsePsOutput(text, true).map((r) => r.pid)).toEqual([1]);
  });

  it("reads CPU times in every shape ps prints them", () => {
    expect(parseCpuTime("00:00:00")).toBe(0);
    expect(parseCpuTime("1-02:03:04")).toBe((((24 + 2) * 60 + 3) * 60 + 4) * 100);
    expect(parseCpuTime("0:00.05")).toBe(5);
    expect(parseCpuTime("0:01.5")).toBe(150);
    expect(parseCpuTime("12:34")).toBe((12 * 60 + 34) * 100);
    expect(parseCpuTime("-")).toBeNull();
  });

  it("reads lstart as seconds since the epoch (ps runs with TZ=UTC), refusing what is no date", () => {
    expect(parseLstart("Thu", "Jan", "1", "00:00:01", "1970")).toBe(1);
    expect(parseLstart("Thu", "Jan", "1", "0:00", "1970")).toBeNull();
    expect(parseLstart("Thu", "January", "1", "00:00:01", "1970")).toBeNull();
  });

  it("finds a variable in the environment ps prints after the command, preferring the environment to an argument", () => {
    const text = [
      " 4123 node fake VIGIL_TOKEN=planted HOME=/root VIGIL_TOKEN=0123456789abcdef0123456789abcdef PATH=/bin",
      " 4124 sleep 100",
      " 4125 sh VIGIL_TOKEN=ffff",
    ].join("\n");
    expect(parseEnvironLines(text, "VIGIL_TOKEN")).toEqual(
      new Map([
        [4123, "0123456789abcdef0123456789abcdef"],
        [4125, "ffff"],
      ]),
    );
  });

  it("asks each platform for the fields and the environment option it has", () => {
    expect(psFields("linux")).toBe("pid=,ppid=,pgid=,sid=,state=,lstart=,rss=,time=");
    expect(psFields("darwin", true)).toBe("pid=,ppid=,pgid=,state=,lstart=,rss=,time=,command=");
    expect(psEnvironmentFlag("linux")).toBe("e");
    expect(psEnvironmentFlag("darwin")).toBe("-E");
    expect(psEnvironmentFlag("freebsd")).toBe("-e");
    expect(psEnvironmentFlag("sunos")).toBeNull();
  });
});
