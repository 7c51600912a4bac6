// Finding the process an `adopt:` service watches: the pid a pidfile names, or the one process whose
// command line matches a regular expression. Pure: the runtime reads /proc and the file, this decides.

export type Found = { readonly ok: true; readonly pid: number } | { readonly ok: false; readonly error: string };

/** A pidfile holds a pid (whitespace around it allowed, nothing else). */
export function pidOfPidfile(path: string, text: string | null): Found {
  if (text === null) return { ok: false, error: `pidfile ${path} cannot be read` };
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed) || Number(trimmed) <= 0) return { ok: false, error: `pidfile ${path} holds no pid (${JSON.stringify(trimmed.slice(0, 20))})` };
  return { ok: true, pid: Number(trimmed) };
}

export interface Candidate {
  readonly pid: number;
  /** the arguments joined by spaces, as `ps -o args` shows them */
  readonly cmdline: string;
}

const SHOWN_MATCHES = 5;

/**
 * Exactly one live process must match; `exclude` holds pids that never count (vigil itself, the
 * processes it spawned, the one asking). Zero or several is an error naming them.
 */
export function pickMatch(pattern: string, candidates: readonly Candidate[], exclude: ReadonlySet<number>): Found {
  const regex = new RegExp(pattern);
  const matching = candidates.filter((c) => !exclude.has(c.pid) && c.cmdline !== "" && regex.test(c.cmdline));
  if (matching.length === 1) return { ok: true, pid: matching[0]!.pid };
  if (matching.length === 0) return { ok: false, error: `no running process matches /${pattern}/` };
  const shown = matching.slice(0, SHOWN_MATCHES).map((c) => `${c.pid} (${c.cmdline.slice(0, 60)})`).join(", ");
  const more = matching.length > SHOWN_MATCHES ? ` and ${matching.length - SHOWN_MATCHES} more` : "";
  return { ok: false, error: `${matching.length} processes match /${pattern}/, exactly one must: ${shown}${more}` };
}
