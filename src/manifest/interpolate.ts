// ${VAR}, ${VAR:-default} and ${VAR:?message} in one string of the manifest (SPEC §6.5); `$$` is a
// literal `$`. Any other `$` (`$VAR`, `$1`, a lone `$`) is left as it is, so that a shell still
// sees it. Defaults and messages may hold references of their own: ${A:-${B:-none}}.
// Pure: the caller passes the lookup and places each problem's offset in its file.

export interface InterpolationProblem {
  /** index in the string of the `$` that starts the reference */
  readonly offset: number;
  readonly message: string;
}

export interface Interpolated {
  readonly value: string;
  /** the same, with the value of every reference to a secret-named variable as *** */
  readonly masked: string;
  readonly problems: readonly InterpolationProblem[];
}

export type Lookup = (name: string) => string | undefined;

type Operator = ":-" | ":?";

type Part =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "ref"; readonly name: string; readonly operator: Operator | null; readonly argument: readonly Part[]; readonly offset: number };

type Parsed = { readonly ok: true; readonly parts: Part[]; readonly next: number } | { readonly ok: false; readonly problem: InterpolationProblem };

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const FORMS = "write ${NAME}, ${NAME:-default} or ${NAME:?message}, or $$ for a literal $";

/** Names whose values `vigil check --print` hides. */
export const isSecretName = (name: string): boolean => /TOKEN|SECRET|PASSWORD|KEY/i.test(name);

/** Cheap test for a string that interpolation would change (or reject). */
export const mayInterpolate = (text: string): boolean => text.includes("${") || text.includes("$$");

export function interpolate(text: string, lookup: Lookup, isSecret: (name: string) => boolean = isSecretName): Interpolated {
  if (!mayInterpolate(text)) return { value: text, masked: text, problems: [] };
  const parsed = parse(text, 0, false);
  if (!parsed.ok) return { value: text, masked: text, problems: [parsed.problem] };
  const problems: InterpolationProblem[] = [];
  const { value, masked } = evaluate(parsed.parts, lookup, isSecret, problems);
  return problems.length > 0 ? { value: text, masked: text, problems } : { value, masked, problems };
}

/** The parts of text from `start`; when `nested`, up to (not past) the `}` that closes the enclosing reference. */
function parse(text: string, start: number, nested: boolean): Parsed {
  const parts: Part[] = [];
  let literal = "";
  let i = start;
  while (i < text.length) {
    const ch = text.charAt(i);
    if (nested && ch === "}") break;
    if (ch !== "$") {
      const next = nextSpecial(text, i, nested);
      literal += text.slice(i, next);
      i = next;
      continue;
    }
    const after = text.charAt(i + 1);
    if (after === "$") {
      literal += "$";
      i += 2;
    } else if (after === "{") {
      const ref = parseReference(text, i);
      if (!ref.ok) return ref;
      if (literal !== "") parts.push({ kind: "text", text: literal });
      literal = "";
      parts.push(...ref.parts);
      i = ref.next;
    } else {
      literal += "$";
      i += 1;
    }
  }
  if (literal !== "") parts.push({ kind: "text", text: literal });
  return { ok: true, parts, next: i };
}

function nextSpecial(text: string, from: number, nested: boolean): number {
  const dollar = text.indexOf("$", from);
  const brace = nested ? text.indexOf("}", from) : -1;
  const ends = [dollar, brace].filter((at) => at >= 0);
  return ends.length === 0 ? text.length : Math.min(...ends);
}

/** `${…}` starting at `offset` (the `$`). */
function parseReference(text: string, offset: number): Parsed {
  const problem = (message: string): Parsed => ({ ok: false, problem: { offset, message } });
  const nameAt = offset + 2;
  NAME.lastIndex = nameAt;
  const name = NAME.exec(text)?.[0];
  if (name === undefined) {
    const ch = text.charAt(nameAt);
    if (ch === "}") return problem(`empty variable name in "\${}"; ${FORMS}`);
    if (ch === "") return problem(`unterminated "\${": no closing }; ${FORMS}`);
    return problem(`bad variable name at ${JSON.stringify(ch)}: a name takes letters, digits and _, not starting with a digit; ${FORMS}`);
  }
  const after = nameAt + name.length;
  const ch = text.charAt(after);
  if (ch === "}") return { ok: true, parts: [{ kind: "ref", name, operator: null, argument: [], offset }], next: after + 1 };
  if (ch === "") return problem(`unterminated "\${${name}": no closing }; ${FORMS}`);
  const operator = text.slice(after, after + 2);
  if (operator !== ":-" && operator !== ":?") {
    return problem(`unexpected ${JSON.stringify(ch)} in "\${${name}…}"; ${FORMS}`);
  }
  const argument = parse(text, after + 2, true);
  if (!argument.ok) return argument;
  if (text.charAt(argument.next) !== "}") return problem(`unterminated "\${${name}${operator}…": no closing }; ${FORMS}`);
  return { ok: true, parts: [{ kind: "ref", name, operator, argument: argument.parts, offset }], next: argument.next + 1 };
}

function evaluate(parts: readonly Part[], lookup: Lookup, isSecret: (name: string) => boolean, problems: InterpolationProblem[]): { value: string; masked: string } {
  let value = "";
  let masked = "";
  for (const part of parts) {
    if (part.kind === "text") {
      value += part.text;
      masked += part.text;
      continue;
    }
    const found = lookup(part.name);
    const empty = found === undefined || found === "";
    let replaced: { value: string; masked: string };
    if (part.operator === ":-" && empty) {
      replaced = evaluate(part.argument, lookup, isSecret, problems);
    } else if (part.operator === ":?" && empty) {
      const message = evaluate(part.argument, lookup, isSecret, problems).value;
      problems.push({ offset: part.offset, message: `${part.name}: ${message === "" ? "is not set or is empty" : message}` });
      replaced = { value: "", masked: "" };
    } else if (found === undefined) {
      problems.push({
        offset: part.offset,
        message: `variable ${part.name} is not set; set it in the environment or in .env beside the manifest, or give a default: \${${part.name}:-…}`,
      });
      replaced = { value: "", masked: "" };
    } else {
      replaced = { value: found, masked: found };
    }
    value += replaced.value;
    masked += isSecret(part.name) ? "***" : replaced.masked;
  }
  return { value, masked };
}
