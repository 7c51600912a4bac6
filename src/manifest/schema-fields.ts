// Leaf schemas of the manifest: units, signals, commands, addresses. Each keeps its input form
// (for z.input and the JSON Schema) and transforms to what vigil uses.
import { constants } from "node:os";
import * as z from "./zod.js";
import { suggest } from "./suggest.js";
import {
  DURATION_PATTERN,
  MAX_DURATION_MS,
  MAX_SIZE_BYTES,
  PERCENT_PATTERN,
  SIZE_PATTERN,
  describeValue,
  readDuration,
  readPercent,
  readSize,
  type UnitResult,
} from "./units.js";

interface UnitOptions {
  /** reject 0 (for intervals and sizes that must be something) */
  readonly positive?: boolean;
}

/** A string of the unit forms that means nothing: 0, 0s, 0.0ms, 0MiB, 0% (a JSON Schema for `positive`). */
const ZERO_PATTERN = "^\\s*0+(\\.0+)?\\s*[A-Za-z%]*\\s*$";

function positiveNumber({ minimum: _zero, ...meta }: Record<string, unknown>): Record<string, unknown> {
  return meta["type"] === "integer" ? { ...meta, minimum: 1 } : { ...meta, exclusiveMinimum: 0 };
}

function unitSchema(
  read: (value: unknown) => UnitResult,
  pattern: string,
  hint: string,
  numberMeta: Record<string, unknown>,
  options: UnitOptions,
) {
  const stringMeta = options.positive ? { pattern, not: { type: "string", pattern: ZERO_PATTERN } } : { pattern };
  return z
    .union([z.string().meta(stringMeta), z.number().meta(options.positive ? positiveNumber(numberMeta) : numberMeta)], {
      error: (issue) => `expected ${hint}, got ${describeValue(issue.input)}`,
    })
    .transform((value, ctx) => {
      const result = read(value);
      if (!result.ok) {
        ctx.addIssue({ code: "custom", message: result.message, input: value });
        return z.NEVER;
      }
      if (options.positive && result.value === 0) {
        ctx.addIssue({ code: "custom", message: "must be greater than 0", input: value });
        return z.NEVER;
      }
      return result.value;
    });
}

export const duration = (options: UnitOptions = {}) =>
  unitSchema(readDuration, DURATION_PATTERN, "a duration such as 250ms, 5s, 10m or 1h", { type: "integer", minimum: 0, maximum: MAX_DURATION_MS }, options);

export const size = (options: UnitOptions = {}) =>
  unitSchema(readSize, SIZE_PATTERN, "a size such as 512MiB, 1GB or 800KB", { type: "integer", minimum: 0, maximum: MAX_SIZE_BYTES }, options);

export const percent = (options: UnitOptions = {}) =>
  unitSchema(readPercent, PERCENT_PATTERN, "a percentage such as 95%", { type: "number", minimum: 0 }, options);

const SIGNAL_NAMES = Object.keys(constants.signals) as NodeJS.Signals[];

/** `[Tt][Ee][Rr][Mm]`: JSON Schema patterns have no case-insensitive flag */
const anyCase = (text: string): string => text.replace(/[A-Za-z]/g, (ch) => `[${ch.toUpperCase()}${ch.toLowerCase()}]`);
/** what normaliseSignal accepts: a known name in any case, with or without SIG, with spaces around */
const SIGNAL_PATTERN = `^\\s*(${anyCase("SIG")})?(${SIGNAL_NAMES.map((name) => anyCase(name.slice(3))).join("|")})\\s*$`;

function normaliseSignal(value: string): NodeJS.Signals | undefined {
  const upper = value.trim().toUpperCase();
  const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  return SIGNAL_NAMES.find((signal) => signal === name);
}

export const signal = z
  .string()
  .meta({ pattern: SIGNAL_PATTERN })
  .transform((value, ctx): NodeJS.Signals => {
    const found = normaliseSignal(value);
    if (found !== undefined) return found;
    const short = SIGNAL_NAMES.map((name) => name.slice(3));
    const close = suggest(value.trim().toUpperCase().replace(/^SIG/, ""), short);
    const hint = close === undefined ? "" : `, did you mean "SIG${close}"?`;
    ctx.addIssue({ code: "custom", message: `unknown signal ${describeValue(value)}${hint}`, input: value });
    return z.NEVER;
  });

export const command = z.union(
  [
    z.string().refine((text) => text.trim() !== "", "command must not be empty").meta({ pattern: "\\S" }),
    z
      .array(z.string())
      .min(1, "command list must not be empty")
      .refine((list) => list.length === 0 || (list[0] ?? "").trim() !== "", { message: "the program must not be empty", path: [0] })
      .meta({ prefixItems: [{ type: "string", pattern: "\\S" }] }),
  ],
  { error: (issue) => `expected a command string or a list of strings, got ${describeValue(issue.input)}` },
);

const NUL_MESSAGE = "cannot contain a NUL character: no program can receive one";
const hasNoNul = (text: string): boolean => !text.includes("\0");

/** A path or an environment value: the kernel takes it as a C string, which a NUL would cut, and Node refuses it. */
export const osString = () => z.string().refine(hasNoNul, NUL_MESSAGE).meta({ pattern: "^[^\\u0000]*$" });

/**
 * For the JSON Schema of a value the loader interpolates (SPEC §6.5): the pattern of a valid value, or
 * any string with a ${…} in it, which only the loader can judge.
 */
const orVariable = (pattern: string): string => `${pattern}|\\$\\{`;

export const envValue = z
  .union([z.string(), z.number(), z.boolean()], {
    error: (issue) => `expected a string, number or boolean, got ${describeValue(issue.input)}`,
  })
  .transform(String)
  .refine(hasNoNul, NUL_MESSAGE);

export const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name takes letters, digits and _, not starting with a digit");

export const serviceName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "a service name starts with a letter or digit and takes only letters, digits, _ . -")
  .max(64, "a service name has at most 64 characters");

// a scheme of http or https (URL takes any case and leading blanks), then a host
const HTTP_URL_PATTERN = `^[\\u0000-\\u0020]*${anyCase("http")}[Ss]?:[/\\\\]*[^/\\\\?#\\s]`;

export const httpUrl = z.string().meta({ pattern: orVariable(HTTP_URL_PATTERN) }).refine((text) => {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}, "expected an http:// or https:// URL");

// as the transform below reads it: host:port, port 1..65535 in at most five digits
const PORT_PATTERN = "(?=\\d{1,5}\\s*$)0*([1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])";
const TCP_ADDRESS_PATTERN = `^\\s*(\\[[^\\]]+\\]|[^\\s:[\\]]+):${PORT_PATTERN}\\s*$`;

export const tcpAddress = z.string().meta({ pattern: orVariable(TCP_ADDRESS_PATTERN) }).transform((text, ctx) => {
  const match = /^(\[[^\]]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) {
    ctx.addIssue({ code: "custom", message: `expected "host:port" such as "127.0.0.1:5432", got ${describeValue(text)}`, input: text });
    return z.NEVER;
  }
  return { host: (match[1] ?? "").replace(/^\[(.*)\]$/, "$1"), port };
});
