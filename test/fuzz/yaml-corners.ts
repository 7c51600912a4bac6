// YAML's dark corners as whole manifests: aliases and alias bombs, deep nesting, tags, complex keys,
// merge keys of the wrong kind, several documents, BOMs, tabs, line ends and numbers out of range.
import fc from "fast-check";
import { SEEDS } from "./manifest-seeds.js";

const VALID = "version: 1\nservices:\n  api:\n    command: node app.js\n";

/** "billion laughs": each level a list of `width` aliases of the level below */
const aliasBomb = fc.record({ levels: fc.integer({ min: 1, max: 12 }), width: fc.integer({ min: 2, max: 12 }), where: fc.constantFrom("x-bomb", "services", "env", "command") }).map(({ levels, width, where }) => {
  const lines = ['  l0: &l0 ["lol", "lol"]'];
  for (let i = 1; i <= levels; i++) lines.push(`  l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(", ")}]`);
  const anchors = `anchors:\n${lines.join("\n")}\n`;
  if (where === "x-bomb") return `${anchors}${VALID}`;
  if (where === "services") return `version: 1\n${anchors}services:\n  api:\n    command: x\n    depends_on: *l${levels}\n`;
  if (where === "env") return `version: 1\n${anchors}services:\n  api:\n    command: x\n    env: { A: *l${levels} }\n`;
  return `version: 1\n${anchors}services:\n  api:\n    command: *l${levels}\n`;
});

const deepNesting = fc.record({ depth: fc.constantFrom(10, 100, 1_000, 10_000, 100_000), open: fc.constantFrom("[", "{a: ", "- ", "a:\n"), where: fc.constantFrom("services", "command", "x") }).map(({ depth, open, where }) => {
  const close = open === "[" ? "]" : open === "{a: " ? "}" : "";
  const nested = open.endsWith("\n") || open === "- "
    ? Array.from({ length: Math.min(depth, 2_000) }, (_, i) => `${" ".repeat(i + 4)}${open.trim()}`).join("\n") + " 1"
    : `${open.repeat(depth)}1${close.repeat(depth)}`;
  if (where === "services") return `version: 1\nservices: ${nested.startsWith(" ") ? `\n${nested}` : nested}\n`;
  if (where === "command") return `version: 1\nservices:\n  api:\n    command: ${nested.startsWith(" ") ? `\n${nested}` : nested}\n`;
  return `version: 1\nx: ${nested.startsWith(" ") ? `\n${nested}` : nested}\n${VALID.slice("version: 1\n".length)}`;
});

const odd = fc.constantFrom(
  "!!binary aGVsbG8=", "!!set { a, b }", "!!omap [ a: 1 ]", "!!timestamp 2001-12-14", "!custom x", "!!float .nan", "!!int 0x1F", "!!str 5",
  "!!map [1]", "!!seq {a: 1}", "!<tag:yaml.org,2002:str> x", "!!null ~", ".inf", "-.inf", ".nan", "1e400", "0x7fffffffffffffffffff",
  "0o777", "1_000", "2001-12-14t21:59:43.10-05:00", "*nope", "&a", "&a *a", "? [a, b]", "{? {a: 1}: 2}", "[a, b]: c", "{[1]: 2}",
  "|\n      block\n      text", ">-\n      folded", "|+\n\n", "\"\\x00\\u202e\\ud800\"", "'it''s'", "~", "", "@", "`", "%",
);

const keyed = fc.record({ value: odd, key: fc.constantFrom("version", "state_dir", "command", "env", "depends_on", "shell", "cwd", "restart", "limits", "probes", "http", "alerts", "services", "<<", "x") }).map(({ value, key }) => {
  if (["version", "state_dir", "http", "alerts", "services", "x"].includes(key)) return `${VALID}${key === "services" || key === "version" ? "# " : ""}${key}: ${value}\n`;
  return `${VALID}    ${key}: ${value}\n`;
});

const mergeKeys = fc.constantFrom(
  "version: 1\nbase: &b 5\nservices:\n  api:\n    <<: *b\n    command: x\n",
  "version: 1\nservices:\n  a: &a { command: x }\n  b: { <<: [*a, *a], <<: *a }\n",
  "version: 1\nservices:\n  a: &a { command: x, <<: *a }\n",
  "version: 1\nservices: &s\n  a: { command: x, depends_on: *s }\n",
  "version: 1\nservices:\n  a: &a { command: x }\n  <<: *a\n",
  "version: 1\nservices:\n  a: { command: x }\n  <<: [1, 2]\n",
  "<<: { version: 1 }\nservices: { a: { command: x } }\n",
);

const documents = fc.record({ seed: fc.nat(), second: fc.constantFrom("", "version: 1\n", "--- !!str x\n", "...\n", "%YAML 1.2\n---\n", "[1, 2]\n") }).map(({ seed, second }) => {
  const first = SEEDS[seed % SEEDS.length] ?? VALID;
  return `${first}---\n${second}`;
});

const encodings = fc.record({ seed: fc.nat(), bom: fc.constantFrom("", "\ufeff", "\ufeff\ufeff"), ends: fc.constantFrom("\n", "\r\n", "\r", "\u2028", "\u0085"), tabs: fc.boolean() }).map(({ seed, bom, ends, tabs }) => {
  const text = (SEEDS[seed % SEEDS.length] ?? VALID).replaceAll("\n", ends);
  return bom + (tabs ? text.replace(/(^|\n) {2}/g, "$1\t") : text);
});

const duplicates = fc.record({ seed: fc.nat(), line: fc.nat() }).map(({ seed, line }) => {
  const lines = (SEEDS[seed % SEEDS.length] ?? VALID).split("\n");
  const at = line % lines.length;
  lines.splice(at, 0, lines[at] ?? "");
  return lines.join("\n");
});

export const yamlCorners = fc.oneof(aliasBomb, deepNesting, keyed, mergeKeys, documents, encodings, duplicates);

/** Text with YAML's punctuation in it, to reach the parser's odd states. */
export const yamlNoise = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."{}[]:-,&*!|>'\"%@`#? \n\t\r\\a1.~<="), maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: "grapheme", maxLength: 200 }).map((s) => `version: 1\nservices:\n  ${s}`),
);
