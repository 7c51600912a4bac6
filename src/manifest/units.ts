// Durations, sizes and percentages as written in supervisor.yaml. The read* functions return a
// result so the schema can attach the message to the offending node; the parse* functions throw.

export type UnitResult =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly message: string };

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const SIZE_UNITS_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Node's setTimeout waits at most 2^31-1 ms (about 24.8 days) and fires a longer delay after 1 ms:
 * a `backoff.initial: 30d` would restart at once, a `stop.timeout: 30d` SIGKILL at once.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;
/** 1 PiB: more than any machine's memory or any log file, and far below where numbers lose precision. */
export const MAX_SIZE_BYTES = 2 ** 50;

const DURATION_BOUND = `${MAX_DURATION_MS}ms (about 24.8 days, the longest a timer can wait)`;
const SIZE_BOUND = `${MAX_SIZE_BYTES} bytes (1024TiB)`;

/** JSON Schema patterns for the string forms (the number forms are integers). */
export const DURATION_PATTERN = "^\\s*(\\d+|(\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*)+)$";
export const SIZE_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*(([kKmMgGtT][iI]?)?[bB])?\\s*$";
export const PERCENT_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*%\\s*$";

const DURATION_HINT = "a duration such as 250ms, 5s, 10m, 1h or 2h30m, or whole milliseconds";
const SIZE_HINT = "a size such as 512MiB, 1GB, 800KB, or whole bytes";
const PERCENT_HINT = "a percentage such as 95%";

const ok = (value: number): UnitResult => ({ ok: true, value });
const fail = (message: string): UnitResult => ({ ok: false, message });

export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

function readWholeNumber(value: number, unit: string, hint: string): UnitResult {
  if (!Number.isFinite(value)) return fail(`expected ${hint}, got ${value}`);
  if (value < 0) return fail(`must not be negative, got ${value}`);
  if (!Number.isInteger(value)) return fail(`a bare number is whole ${unit}, got ${value}; add a unit`);
  return ok(value);
}

function atMost(result: UnitResult, max: number, bound: string, value: unknown): UnitResult {
  // a string of 400 digits reads as Infinity
  if (!result.ok || result.value <= max) return result;
  return fail(`must be at most ${bound}, got ${describeValue(value)}`);
}

export function readDuration(value: unknown): UnitResult {
  return atMost(readAnyDuration(value), MAX_DURATION_MS, DURATION_BOUND, value);
}

function readAnyDuration(value: unknown): UnitResult {
  if (typeof value === "number") return readWholeNumber(value, "milliseconds", DURATION_HINT);
  if (typeof value !== "string") return fail(`expected ${DURATION_HINT}, got ${describeValue(value)}`);
  const text = value.trim();
  if (/^\d+$/.test(text)) return ok(Number(text));
  if (!/^(\d+(\.\d+)?\s*[a-zA-Z]+\s*)+$/.test(text)) {
    return fail(`expected ${DURATION_HINT}, got ${describeValue(value)}`);
  }
  let totalMs = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)\s*([a-zA-Z]+)/g)) {
    const factor = DURATION_UNITS_MS[unit ?? ""];
    if (factor === undefined) {
      return fail(`unknown duration unit "${unit}" in ${describeValue(value)}; use ms, s, m, h or d`);
    }
    totalMs += Number(amount) * factor;
  }
  return ok(Math.round(totalMs));
}

export function readSize(value: unknown): UnitResult {
  return atMost(readAnySize(value), MAX_SIZE_BYTES, SIZE_BOUND, value);
}

function readAnySize(value: unknown): UnitResult {
  if (typeof value === "number") return readWholeNumber(value, "bytes", SIZE_HINT);
  if (typeof value !== "string") return fail(`expected ${SIZE_HINT}, got ${describeValue(value)}`);
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value.trim());
  if (!match) return fail(`expected ${SIZE_HINT}, got ${describeValue(value)}`);
  const [, amount, unit = ""] = match;
  if (unit === "") {
    const bytes = Number(amount);
    return Number.isFinite(bytes) && !Number.isInteger(bytes) ? fail(`a size without a unit is whole bytes, got ${describeValue(value)}`) : ok(bytes);
  }
  const factor = SIZE_UNITS_BYTES[unit.toLowerCase()];
  if (factor === undefined) {
    return fail(`unknown size unit "${unit}" in ${describeValue(value)}; use B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024)`);
  }
  return ok(Math.round(Number(amount) * factor));
}

export function readPercent(value: unknown): UnitResult {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? ok(value) : fail(`expected ${PERCENT_HINT}, got ${value}`);
  }
  if (typeof value !== "string") return fail(`expected ${PERCENT_HINT}, got ${describeValue(value)}`);
  const match = /^(\d+(?:\.\d+)?)\s*%$/.exec(value.trim());
  const percent = Number(match?.[1]);
  // a string of 400 digits reads as Infinity
  if (!match || !Number.isFinite(percent)) return fail(`expected ${PERCENT_HINT}, got ${describeValue(value)}`);
  return ok(percent);
}

function unwrap(result: UnitResult): number {
  if (result.ok) return result.value;
  throw new RangeError(result.message);
}

/** Milliseconds; throws a RangeError with a readable message. */
export const parseDuration = (value: unknown): number => unwrap(readDuration(value));
/** Bytes; throws a RangeError with a readable message. */
export const parseSize = (value: unknown): number => unwrap(readSize(value));
/** Percent (150 = one and a half cores); throws a RangeError with a readable message. */
export const parsePercent = (value: unknown): number => unwrap(readPercent(value));
