// From zod issues to manifest problems: readable messages in YAML words, one problem per unknown
// key, the decisive branch of a union, and whether to point at the key or the value.
import type * as z from "./zod.js";
import { didYouMean } from "./suggest.js";
import { describeValue } from "./units.js";
import type { Anchor, IssuePath } from "./yaml-source.js";

export interface PendingIssue {
  readonly path: IssuePath;
  readonly message: string;
  readonly anchor: Anchor;
}

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

const EXPECTED: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a mapping",
  record: "a mapping",
  array: "a list",
};

const listOf = (values: readonly unknown[]): string =>
  values.length < 2 ? values.map(String).join("") : `${values.slice(0, -1).join(", ")} or ${String(values.at(-1))}`;

/** Per-parse error map: only used where the schema gives no message of its own. */
export const issueMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`;
    case "invalid_value":
      if (issue.values.length === 1) return `expected ${String(issue.values[0])}, got ${describeValue(issue.input)}`;
      return `invalid value ${describeValue(issue.input)} (expected ${listOf(issue.values)})${didYouMean(issue.input, issue.values.map(String))}`;
    case "too_small":
      if (issue.origin === "array" || issue.origin === "string") return "must not be empty";
      return issue.inclusive ? `must be at least ${issue.minimum}, got ${describeValue(issue.input)}` : `must be greater than ${issue.minimum}`;
    case "too_big":
      return issue.inclusive ? `must be at most ${issue.maximum}, got ${describeValue(issue.input)}` : `must be less than ${issue.maximum}`;
    default:
      return undefined;
  }
};

export function fromZodIssues(issues: readonly Issue[], root: Schema): PendingIssue[] {
  return issues.flatMap((issue) => convert(issue, [], root));
}

function convert(issue: Issue, prefix: IssuePath, root: Schema): PendingIssue[] {
  const path = [...prefix, ...issue.path];
  const missing = issue.input === undefined && path.length > 0;
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = keysAt(root, path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        anchor: "key",
        message: `unknown key "${key}"${didYouMean(key, allowed)}`,
      }));
    }
    case "invalid_key":
      return [{ path, anchor: "key", message: issue.issues.map((inner) => inner.message).join("; ") }];
    case "invalid_union": {
      const decisive = missing ? undefined : decisiveBranch(issue.errors);
      if (decisive) return decisive.flatMap((inner) => convert(inner, path, root));
      return [{ path, anchor: "value", message: missing ? missingKey(path) : issue.message }];
    }
    case "invalid_type":
    case "invalid_value":
      return [{ path, anchor: "value", message: missing ? missingKey(path) : issue.message }];
    case "custom":
      return [{ path, anchor: issue.params?.["at"] === "key" ? "key" : "value", message: issue.message }];
    default:
      return [{ path, anchor: "value", message: issue.message }];
  }
}

const missingKey = (path: IssuePath): string => `missing required key "${String(path.at(-1))}"`;

/** The one branch that got past the type check (e.g. the list form of `command: []`), if any. */
function decisiveBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const typed = branches.filter((branch) => branch.some((issue) => issue.code !== "invalid_type" || issue.path.length > 0));
  return typed.length === 1 ? typed[0] : undefined;
}

function keysAt(root: Schema, path: IssuePath): string[] {
  let schema: Schema | undefined = root;
  for (const segment of path) {
    schema = schema && childOf(unwrap(schema), segment);
  }
  const def = schema && (unwrap(schema) as z.core.$ZodTypes)._zod.def;
  return def?.type === "object" ? Object.keys(def.shape) : [];
}

function unwrap(schema: Schema): Schema {
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case "optional":
    case "default":
    case "prefault":
    case "nullable":
    case "readonly":
    case "catch":
      return unwrap(def.innerType);
    case "pipe":
      return unwrap(def.in);
    default:
      return schema;
  }
}

function childOf(schema: Schema, segment: PropertyKey): Schema | undefined {
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case "object":
      return def.shape[String(segment)];
    case "record":
      return def.valueType;
    case "array":
      return def.element;
    case "union":
      return def.options.map((option) => childOf(unwrap(option), segment)).find((child) => child !== undefined);
    default:
      return undefined;
  }
}
