// How much a child's beat data may hold. The data is kept and written into every status document, so
// one service's data must never be able to make that fail (JSON.stringify overflows its stack on data
// nested some thousands deep) or grow large. Measured without recursion, stopping at the first bound
// passed, so that measuring costs no more than the bound.

export const MAX_DATA_DEPTH = 32;
export const MAX_DATA_BYTES = 16 * 1024;

export interface DataLimits {
  /** arrays and objects inside one another: `{"a":[1]}` is 2 deep, a number 0 */
  readonly maxDepth: number;
  /** bytes of the data's JSON text (UTF-8, as JSON.stringify writes it) */
  readonly maxBytes: number;
}

export const DATA_LIMITS: DataLimits = { maxDepth: MAX_DATA_DEPTH, maxBytes: MAX_DATA_BYTES };

/** too-deep and too-large pass a bound; not-json is a value JSON cannot hold (undefined inside, a BigInt, a function) */
export type DataFault = "too-deep" | "too-large" | "not-json";

type Frame = { readonly depth: number; readonly values: readonly unknown[]; next: number };

/** null when `value` is JSON data within the limits */
export function checkData(value: unknown, limits: DataLimits = DATA_LIMITS): DataFault | null {
  let bytes = 0;
  // a frame per open array or object, with the values still to measure
  const stack: Frame[] = [];
  let current: unknown = value;
  let depth = 0;
  for (;;) {
    if (typeof current === "object" && current !== null) {
      if (depth + 1 > limits.maxDepth) return "too-deep";
      let values: readonly unknown[];
      if (Array.isArray(current)) {
        values = current;
      } else {
        const keys = Object.keys(current);
        // `"":0` is the least an entry can be: give up before walking what cannot fit
        if (bytes + keys.length * 4 > limits.maxBytes) return "too-large";
        const record = current as Record<string, unknown>;
        values = keys.map((key) => record[key]);
        // each key with its colon
        for (const key of keys) bytes += stringBytes(key, limits.maxBytes - bytes) + 1;
      }
      // brackets, the commas between the values, and at least a byte each of the values
      bytes += 2 + Math.max(0, values.length - 1);
      if (bytes + values.length > limits.maxBytes) return "too-large";
      stack.push({ depth: depth + 1, values, next: 0 });
    } else {
      const scalar = scalarBytes(current, limits.maxBytes - bytes);
      if (scalar === null) return "not-json";
      bytes += scalar;
      if (bytes > limits.maxBytes) return "too-large";
    }
    // the next value: the next one of the innermost array or object that has one left
    let frame = stack.at(-1);
    while (frame !== undefined && frame.next >= frame.values.length) {
      stack.pop();
      frame = stack.at(-1);
    }
    if (frame === undefined) return null;
    current = frame.values[frame.next++];
    depth = frame.depth;
  }
}

/** bytes of a scalar's JSON; null for what JSON cannot hold */
function scalarBytes(value: unknown, budget: number): number | null {
  switch (typeof value) {
    case "string":
      return stringBytes(value, budget);
    case "number":
      return Number.isFinite(value) ? String(value).length : 4;
    case "boolean":
      return value ? 4 : 5;
    case "object":
      return 4; // null
    default:
      return null;
  }
}

/** bytes of JSON.stringify(text) in UTF-8; stops counting once past the budget */
function stringBytes(text: string, budget: number): number {
  let bytes = 2;
  for (let i = 0; i < text.length && bytes <= budget; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) bytes += 2;
    else if (c < 0x20) bytes += c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6;
    else if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) bytes += 6; // a lone surrogate is written as \udXXX
    else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
