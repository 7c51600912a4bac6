// The tasks a child has in hand (`{"type":"task","id":…,"event":"start"|"progress"|"end"}`), and their
// deadlines: no progress for stale_after (one warning per task), open past timeout. One timer per
// instance, armed for the earliest deadline only: a progress stores its time and touches no timer, and
// the timer looks at every open task when it fires (at most MAX_OPEN_TASKS).
import type { TaskReport } from "./heartbeat-message.js";

/** open tasks per instance; a start beyond this is refused and counted */
export const MAX_OPEN_TASKS = 1000;

export interface OpenTask {
  readonly id: string;
  name: string | null;
  /** monotonic */
  readonly startedAtMs: number;
  /** the start or the last progress, monotonic */
  lastAtMs: number;
  /** the stale warning was given (once per task) */
  staleWarned: boolean;
  /** the timeout was reported (once per task) */
  timedOut: boolean;
}

export interface TaskBook {
  /** by id, in the order they started (oldest first) */
  readonly open: Map<string, OpenTask>;
  /** starts refused because MAX_OPEN_TASKS were open */
  rejected: number;
  /** a progress or end of a task that is not open (ended, refused, or of a child before a restart) */
  unmatched: number;
  started: number;
  ended: number;
  /** when the armed timer is due; null when none is armed */
  dueMs: number | null;
}

export interface TaskDeadlines {
  readonly staleAfterMs: number | null;
  readonly timeoutMs: number | null;
}

export function newTaskBook(): TaskBook {
  return { open: new Map(), rejected: 0, unmatched: 0, started: 0, ended: 0, dueMs: null };
}

export type ReportOutcome = "started" | "progressed" | "ended" | "rejected" | "unmatched";

/**
 * Takes one report. A start of an id that is open starts it anew (a retried request); a progress or end
 * of an unknown id is counted and ignored. `arm` is the delay to (re)arm the timer with, or null.
 */
export function report(book: TaskBook, r: TaskReport, deadlines: TaskDeadlines | null, nowMs: number): { outcome: ReportOutcome; arm: number | null } {
  const task = book.open.get(r.id);
  switch (r.event) {
    case "start": {
      if (task) book.open.delete(r.id);
      else if (book.open.size >= MAX_OPEN_TASKS) {
        book.rejected++;
        return { outcome: "rejected", arm: null };
      }
      const fresh: OpenTask = { id: r.id, name: r.name ?? null, startedAtMs: nowMs, lastAtMs: nowMs, staleWarned: false, timedOut: false };
      book.open.set(r.id, fresh);
      book.started++;
      return { outcome: "started", arm: armFor(book, fresh, deadlines, nowMs) };
    }
    case "progress":
      if (!task) return unmatched(book);
      task.lastAtMs = nowMs;
      if (r.name !== undefined) task.name = r.name;
      // a later stale deadline: the armed timer fires early and looks again
      return { outcome: "progressed", arm: null };
    case "end":
      if (!task) return unmatched(book);
      book.open.delete(r.id);
      book.ended++;
      return { outcome: "ended", arm: null };
  }
}

function unmatched(book: TaskBook): { outcome: "unmatched"; arm: null } {
  book.unmatched++;
  return { outcome: "unmatched", arm: null };
}

/** The next deadline of one task, or null when it has none left. */
export function taskDueMs(task: OpenTask, deadlines: TaskDeadlines): number | null {
  let due: number | null = null;
  if (deadlines.staleAfterMs !== null && !task.staleWarned) due = task.lastAtMs + deadlines.staleAfterMs;
  if (deadlines.timeoutMs !== null && !task.timedOut) {
    const timeoutAt = task.startedAtMs + deadlines.timeoutMs;
    if (due === null || timeoutAt < due) due = timeoutAt;
  }
  return due;
}

/** A new task's deadline is earlier than the armed timer (or none is armed): the delay to arm it with. */
function armFor(book: TaskBook, task: OpenTask, deadlines: TaskDeadlines | null, nowMs: number): number | null {
  if (deadlines === null) return null;
  const due = taskDueMs(task, deadlines);
  if (due === null || (book.dueMs !== null && book.dueMs <= due)) return null;
  book.dueMs = due;
  return Math.max(0, due - nowMs);
}

export interface DueOutcome {
  /** tasks that went stale now, oldest first: one warning each */
  readonly stale: readonly OpenTask[];
  /** tasks that ran past the timeout now */
  readonly timedOut: readonly OpenTask[];
  /** the delay to arm the timer with, or null when no deadline is left */
  readonly arm: number | null;
}

/** The timer fired at nowMs: what is due, and the next deadline. */
export function due(book: TaskBook, deadlines: TaskDeadlines | null, nowMs: number): DueOutcome {
  const stale: OpenTask[] = [];
  const timedOut: OpenTask[] = [];
  let next: number | null = null;
  if (deadlines !== null) {
    for (const task of book.open.values()) {
      if (deadlines.timeoutMs !== null && !task.timedOut && nowMs - task.startedAtMs >= deadlines.timeoutMs) {
        task.timedOut = true;
        timedOut.push(task);
      }
      if (deadlines.staleAfterMs !== null && !task.staleWarned && nowMs - task.lastAtMs >= deadlines.staleAfterMs) {
        task.staleWarned = true;
        stale.push(task);
      }
      const at = taskDueMs(task, deadlines);
      if (at !== null && (next === null || at < next)) next = at;
    }
  }
  book.dueMs = next;
  return { stale, timedOut, arm: next === null ? null : Math.max(0, next - nowMs) };
}

/** The child is gone: its tasks go with it (the counts stay, for status). */
export function dropTasks(book: TaskBook): void {
  book.open.clear();
  book.dueMs = null;
}
