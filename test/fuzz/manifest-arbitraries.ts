// What the manifest fuzzer feeds the loader: mutated valid manifests, odd values at every key,
// YAML's dark corners (aliases, bombs, nesting, tags, documents) and plain noise.
import fc from "fast-check";
import { parseDocument, stringify } from "yaml";
import { SEEDS } from "./manifest-seeds.js";

/** Characters that break naive code: controls, NUL, bidi overrides, lone surrogates, BOM, odd line ends. */
const NASTY_CHARS = [
  "\0", "\x07", "\x1b[31m", "\x7f", "\t", "\r", "\n", "\r\n", "\u0085", "\u00a0", "\u2028", "\u2029",
  "\u200b", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", "\ud800", "\udfff",
  "\ud83d\ude00", "e\u0301", "\uffff", "ﬀ", "İ", "%", "$", "${X}", "`", "'", '"', "\\", "#", "&", "*", "!", "|", ">", "<<", ":", "- ", "? ", "{", "}", "[", "]", ",",
];

export const nastyString = fc
  .array(fc.oneof(fc.constantFrom(...NASTY_CHARS), fc.string({ unit: "binary", maxLength: 4 }), fc.string({ maxLength: 6 })), { maxLength: 8 })
  .map((parts) => parts.join(""));

/** Strings that look like what the keys expect, and just miss (or hit a bound). */
const nearMiss = fc.constantFrom(
  "30d", "24d", "25d", "2147483647", "2147483648", `${"9".repeat(400)}h`, "9".repeat(400), "1.5", "0", "-5s", "5 sec", "1e3s",
  "Infinity", "NaN", ".inf", "1024TiB", "1025TiB", `${"9".repeat(400)}GB`, `${"9".repeat(400)}%`, "512M", "95", "150%",
  "SIGKILL", "KILL", "sigterm", "SIGNOPE", "127.0.0.1:0", "0.0.0.0:80", "[::1]:65535", "host:99999", "http://x/", "ftp://x/",
  "always", "alway", "healthy", "socket", "ipc", "api", "db", "worker", "missing", "node a | b", "ls *.js", "echo `id`", "a'b", 'a"b',
);

const hugeString = fc.constantFrom(10_000, 200_000, 1_000_000).chain((n) => fc.constantFrom("a", "9", "a ", '"', "\\", "é", "\u202e").map((c) => c.repeat(Math.ceil(n / c.length))));

const oddNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1e300, -1e300, Number.MAX_VALUE, Number.MIN_VALUE, Number.NaN, Infinity, -Infinity, 0.5),
);

export const scalar: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(null, true, false), weight: 2 },
  { arbitrary: oddNumber, weight: 3 },
  { arbitrary: nearMiss, weight: 4 },
  { arbitrary: nastyString, weight: 3 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 20 }), weight: 1 },
  { arbitrary: hugeString, weight: 1 },
);

const KNOWN_KEYS = [
  "version", "state_dir", "defaults", "http", "resources", "checks", "alerts", "services", "restart", "stop", "logs", "policy", "backoff",
  "initial", "factor", "max", "jitter", "reset_after", "max_restarts", "window", "signal", "timeout", "stale_after", "max_size", "keep",
  "listen", "token_env", "interval", "disk", "path", "warn", "critical", "on", "webhook", "url_env", "telegram", "command", "shell",
  "format", "cooldown", "retries", "retry_backoff", "chat_id_env", "api_url", "description", "cwd", "env", "env_file", "depends_on",
  "heartbeat", "limits", "probes", "via", "misses", "startup_grace", "memory", "cpu", "for", "liveness", "readiness", "exec", "tcp",
  "failures", "initial_delay", "api", "db", "<<",
];

export const key = fc.oneof({ arbitrary: fc.constantFrom(...KNOWN_KEYS), weight: 3 }, { arbitrary: nastyString, weight: 1 });

/** YAML values of every type, nested a little. */
export const yamlValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 4 }),
  ),
})).value;

type Container = Record<string, unknown> | unknown[];
const isContainer = (value: unknown): value is Container => typeof value === "object" && value !== null;

/** Every mapping and list inside `root`, with the root itself first. */
function containers(root: unknown): Container[] {
  const found: Container[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (!isContainer(node)) continue;
    found.push(node);
    pending.push(...Object.values(node));
  }
  return found;
}

export interface ValueEdit {
  readonly seed: number;
  readonly at: number;
  readonly key: string;
  readonly replace: boolean;
  readonly value: unknown;
}

export const valueEdits = fc.array(
  fc.record({ seed: fc.nat(), at: fc.nat(), key, replace: fc.boolean(), value: yamlValue }),
  { minLength: 1, maxLength: 3 },
);

/** A seed as data with odd values put in: an existing key's value replaced, or a new key added. */
export function withValues(edits: readonly ValueEdit[]): string {
  const seed = SEEDS[(edits[0]?.seed ?? 0) % SEEDS.length] ?? "";
  const data: unknown = parseDocument(seed, { merge: false }).toJS();
  for (const edit of edits) {
    const all = containers(data);
    const target = all[edit.at % all.length];
    if (target === undefined) continue;
    const keys = Object.keys(target);
    const existing = keys[edit.at % Math.max(1, keys.length)];
    const name = edit.replace && existing !== undefined ? existing : edit.key;
    (target as Record<string, unknown>)[name] = edit.value;
  }
  return stringify(data, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** Text-level damage to a seed: cut, paste, re-indent, repeat. */
const textEdit = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.oneof(nastyString, fc.constantFrom(...NASTY_CHARS), key.map((k) => `\n${k}: `)) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("line" as const), at: fc.nat(), text: fc.oneof(nastyString, key.map((k) => `${k}:`), fc.constantFrom("---", "...", "%YAML 1.1", "- x", "  - x", "\t", "? a", ": b", "<<: *a", "&a x: 1", "*a: 2")) }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("indent" as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }), tab: fc.boolean() }),
);

type TextEdit = typeof textEdit extends fc.Arbitrary<infer T> ? T : never;

export const textEdits = fc.record({ seed: fc.nat(), edits: fc.array(textEdit, { minLength: 1, maxLength: 6 }) });

export function withTextEdits({ seed, edits }: { seed: number; edits: readonly TextEdit[] }): string {
  let text = SEEDS[seed % SEEDS.length] ?? "";
  for (const edit of edits) {
    const at = edit.at % (text.length + 1);
    const lines = text.split("\n");
    const line = edit.at % lines.length;
    switch (edit.kind) {
      case "insert":
        text = text.slice(0, at) + edit.text + text.slice(at);
        break;
      case "delete":
        text = text.slice(0, at) + text.slice(at + edit.length);
        break;
      case "line":
        lines[line] = `${(lines[line] ?? "").match(/^\s*/)?.[0] ?? ""}${edit.text}`;
        text = lines.join("\n");
        break;
      case "duplicate":
        lines.splice(line, 0, lines[line] ?? "");
        text = lines.join("\n");
        break;
      case "indent": {
        const current = lines[line] ?? "";
        lines[line] = edit.by >= 0 ? (edit.tab ? "\t" : " ").repeat(edit.by) + current : current.slice(Math.min(-edit.by, current.search(/\S|$/)));
        text = lines.join("\n");
        break;
      }
    }
  }
  return text;
}
