// vigil events: the journal (STATE_DIR/events.jsonl, and its rotated files for --since), read straight
// from the file, so it works whether or not a supervisor runs; --follow prints what is appended.
import { watch, type FSWatcher } from "node:fs";
import { resolve } from "node:path";
import { parseTimeArg, TIME_ARG_HINT } from "../control/time-arg.js";
import { stateDirOf } from "../manifest/state-dir.js";
import type { VigilEvent } from "../runtime/outputs/event.js";
import { JournalFollower, journalPath, readJournal } from "../runtime/outputs/journal.js";
import { noStack } from "./target.js";
import { UserError } from "./user-error.js";

export interface EventsOptions {
  /** a duration back from now (1h, 30m) or a date/time (2026-11-22, 2026-11-22T10:00) */
  readonly since?: string;
  /** the same forms: only events up to then */
  readonly until?: string;
  readonly service?: string;
  readonly lines?: number;
  readonly json: boolean;
  readonly follow: boolean;
}

const POLL_MS = 250;
const KIND_WIDTH = 17; // "restart-scheduled"

/** --since (or --until, named by `option`) as wall-clock ms; a UserError (exit 2) for anything else. */
export function parseSince(text: string, nowMs: number, option = "--since"): number {
  const at = parseTimeArg(text, nowMs);
  if (at === null) throw new UserError(`vigil: ${option} ${JSON.stringify(text)}: expected ${TIME_ARG_HINT}`, 2);
  return at;
}

/** `2026-11-22 10:00:01  api    restart-scheduled  restarting in 400ms (reason exit)`, in local time. */
export function formatEvent(event: VigilEvent, serviceWidth: number): string {
  const at = new Date(event.at);
  const pad = (n: number): string => String(n).padStart(2, "0");
  const when = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  const who = (event.service ?? "vigil").padEnd(serviceWidth);
  const head = `${when}  ${who}  ${event.kind.padEnd(KIND_WIDTH)}  `;
  // continuation lines (a rejected manifest's problems) line up under the message
  return `${head}${event.message.replace(/\n/g, `\n${" ".repeat(head.length)}`)}`.trimEnd();
}

export async function eventsCommand(file: string, opts: EventsOptions): Promise<void> {
  const stateDir = stateDirOf(resolve(file));
  const missing = noStack(file, stateDir);
  if (missing) throw missing;
  const nowMs = Date.now();
  const sinceMs = opts.since === undefined ? undefined : parseSince(opts.since, nowMs);
  const untilMs = opts.until === undefined ? undefined : parseSince(opts.until, nowMs, "--until");
  if (untilMs !== undefined && opts.follow) throw new UserError("vigil: --until and --follow cannot be combined: following prints what happens from now on", 2);
  const { events, end } = await readJournal(stateDir, { sinceMs, untilMs, service: opts.service, last: opts.lines });
  const width = Math.max(5, ...events.map((e) => (e.service ?? "vigil").length));
  const print = (batch: readonly VigilEvent[]): void => {
    const shown = batch.filter((e) => opts.service === undefined || e.service === opts.service);
    if (shown.length === 0) return;
    process.stdout.write(`${shown.map((e) => (opts.json ? JSON.stringify(e) : formatEvent(e, width))).join("\n")}\n`);
  };
  print(events);
  if (!opts.follow) {
    if (events.length === 0 && !opts.json) process.stderr.write(`vigil: no events${sinceMs === undefined && untilMs === undefined ? "" : " in that time"} in ${journalPath(stateDir)}\n`);
    return;
  }
  await follow(stateDir, new JournalFollower(journalPath(stateDir), end), print);
}

/** Prints appended events until SIGINT or SIGTERM; a change in the state directory, or the poll, triggers a read. */
async function follow(stateDir: string, follower: JournalFollower, print: (batch: readonly VigilEvent[]) => void): Promise<void> {
  let end!: (err?: unknown) => void;
  const ended = new Promise<void>((done, failed) => (end = (err) => (err === undefined ? done() : failed(err))));
  let reading: Promise<void> | null = null;
  let again = false;
  const round = (): void => {
    if (reading) {
      again = true;
      return;
    }
    reading = (async () => {
      do {
        again = false;
        print(await follower.read());
      } while (again);
    })()
      .catch((err: unknown) => end(err))
      .finally(() => (reading = null));
  };
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(stateDir, round).on("error", () => watcher?.close());
  } catch {
    // no state directory yet: the poll reads the journal once it appears
  }
  const poll = setInterval(round, POLL_MS);
  const stop = (): void => end();
  process.on("SIGINT", stop).on("SIGTERM", stop);
  process.stdout.on("error", stop); // EPIPE: the reader went away
  round();
  try {
    await ended;
  } finally {
    process.off("SIGINT", stop).off("SIGTERM", stop);
    process.stdout.off("error", stop);
    clearInterval(poll);
    watcher?.close();
    await reading;
    await follower.close();
  }
}
