// Reading `ps` output, for the portable process backend (ps-backend.ts). ps runs with LC_ALL=C and
// TZ=UTC, so that lstart is "Sun Dec  6 19:04:19 2026" in UTC everywhere, and with -ww so that no
// command is cut to a terminal's width. One line a process, fields separated by blanks:
//
//   pid ppid pgid [sid] state lstart(5 words) rss time [command...]
//
// Every field but the command is one word (lstart exactly five), so the line splits on runs of blanks
// and whatever follows the time is the command, blanks and all. sid is asked for on Linux alone (macOS
// prints a kernel address as `sess`); state's first letter is the state (R S D T Z I U …); rss is KiB;
// time is CPU time as [DD-][HH:]MM:SS[.cc] (whole seconds on Linux procps, hundredths on macOS/BSD).
// The command is left out of the lists a sweep takes: Linux procps then reads two files a process
// (stat, status) instead of three (cmdline), and a sweep needs no command.
import type { ProcStat } from "./proc.js";

export interface PsRow extends ProcStat {
  /** the command line as ps shows it ("" for a kernel thread or a zombie on some systems) */
  readonly command: string;
  readonly rssKiB: number;
  /** user + system CPU time, in hundredths of a second */
  readonly cpuCentis: number;
}

export const PS_ENV: Readonly<Record<string, string>> = { LC_ALL: "C", TZ: "UTC" };

/** The `-o` list for a platform: with sid where it is a session id, and with the command if asked. */
export function psFields(platform: string, withCommand = false): string {
  const session = platform === "linux" ? "sid=," : "";
  return `pid=,ppid=,pgid=,${session}state=,lstart=,rss=,time=${withCommand ? ",command=" : ""}`;
}

/** ps's option that shows each process's environment after its command, or null where it is unknown. */
export function psEnvironmentFlag(platform: string): string | null {
  if (platform === "linux") return "e"; // procps: BSD-style `e`
  if (platform === "darwin") return "-E";
  if (platform === "freebsd" || platform === "openbsd" || platform === "netbsd") return "-e";
  return null;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "Sun Dec 6 19:04:19 2026" (UTC) → seconds since the epoch; null when it is not such a date. */
export function parseLstart(weekday: string, month: string, day: string, time: string, year: string): number | null {
  const m = MONTHS.indexOf(month);
  const hms = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(time);
  if (m < 0 || !hms || !/^[A-Z][a-z]{2}$/.test(weekday) || !/^\d{1,2}$/.test(day) || !/^\d{4}$/.test(year)) return null;
  return Date.UTC(Number(year), m, Number(day), Number(hms[1]), Number(hms[2]), Number(hms[3])) / 1000;
}

/** "1-02:03:04", "02:03:04", "3:04.56", "123:04.56" → hundredths of a second; null when malformed. */
export function parseCpuTime(text: string): number | null {
  const match = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) return null;
  const [, days = "0", hours = "0", minutes, seconds, fraction = ""] = match;
  const whole = ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
  return whole * 100 + (fraction === "" ? 0 : Number(fraction.padEnd(2, "0")));
}

/** One line of `ps -o psFields(platform)`; null for a line that does not read as one. */
export function parsePsLine(line: string, withSession: boolean): PsRow | null {
  const words: string[] = [];
  let at = 0;
  const fixed = withSession ? 12 : 11;
  // the fixed words, then the rest of the line as the command
  while (words.length < fixed) {
    while (at < line.length && (line[at] === " " || line[at] === "\t")) at++;
    if (at >= line.length) break;
    const start = at;
    while (at < line.length && line[at] !== " " && line[at] !== "\t") at++;
    words.push(line.slice(start, at));
  }
  if (words.length < fixed) return null;
  const command = line.slice(at).trim();
  const [pid, ppid, pgid] = words.slice(0, 3).map(Number);
  const session = withSession ? Number(words[3]) : -1;
  const rest = words.slice(withSession ? 4 : 3);
  const [stat, w, mo, d, t, y, rss, time] = rest as [string, string, string, string, string, string, string, string];
  const startTime = parseLstart(w, mo, d, t, y);
  const cpuCentis = parseCpuTime(time);
  const rssKiB = Number(rss);
  if (![pid, ppid, pgid, session, rssKiB].every((n) => Number.isSafeInteger(n))) return null;
  if (startTime === null || cpuCentis === null || stat === "") return null;
  return { pid: pid!, ppid: ppid!, pgid: pgid!, session, state: stat[0]!, startTime, command, rssKiB, cpuCentis };
}

/** Every row of a ps output; lines that do not parse are left out. */
export function parsePsOutput(text: string, withSession: boolean): PsRow[] {
  const rows: PsRow[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const row = parsePsLine(line, withSession);
    if (row) rows.push(row);
  }
  return rows;
}

/**
 * `ps ENVFLAG -o pid=,command=` lines → pid → the value of `name`. The environment follows the command
 * on the same line, blank-separated, so a value is read up to the next blank (VIGIL_TOKEN is 32 hex
 * digits), and the last `NAME=` of a line is taken: the environment comes after the arguments.
 */
export function parseEnvironLines(text: string, name: string): Map<number, string> {
  const found = new Map<number, string>();
  const key = ` ${name}=`;
  for (const line of text.split("\n")) {
    const trimmed = line.trimStart();
    const space = trimmed.indexOf(" ");
    const pid = Number(trimmed.slice(0, space));
    if (space <= 0 || !Number.isSafeInteger(pid)) continue;
    const at = trimmed.lastIndexOf(key);
    if (at < space) continue;
    const start = at + key.length;
    const end = trimmed.indexOf(" ", start);
    found.set(pid, trimmed.slice(start, end < 0 ? trimmed.length : end));
  }
  return found;
}
