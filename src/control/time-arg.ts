// A point in time as people write it on the command line and in query strings: a duration back from now
// (10m, 1h), an ISO date or date-time (2026-11-22, 2026-11-22T10:00, with or without a zone), or "now".
import { readDuration } from "../manifest/units.js";

export const TIME_ARG_HINT = "a duration such as 30m or 1h (that long ago), or a date such as 2026-11-22T10:00";

/** Wall-clock milliseconds, or null when the text is none of those. */
export function parseTimeArg(text: string, nowMs: number): number | null {
  const trimmed = text.trim();
  if (trimmed === "now") return nowMs;
  if (/^\d/.test(trimmed) && !/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const duration = readDuration(trimmed);
    return duration.ok ? nowMs - duration.value : null;
  }
  // a bare date is local midnight, as the times printed are local
  const at = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00` : trimmed);
  return /^\d{4}-\d{2}-\d{2}/.test(trimmed) && !Number.isNaN(at) ? at : null;
}
