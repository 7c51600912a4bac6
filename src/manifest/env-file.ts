// dotenv format: KEY=VALUE, `export KEY=VALUE`, '…' literal, "…" with \n \t \" \\ escapes,
// `#` comments on their own line or after whitespace in an unquoted value, blank lines.

export interface EnvFileProblem {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export interface EnvFile {
  readonly env: Record<string, string>;
  readonly problems: readonly EnvFileProblem[];
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/;
const ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\", $: "$" };

export function parseEnvFile(text: string): EnvFile {
  const env: Record<string, string> = {};
  const problems: EnvFileProblem[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (/^\s*(#.*)?$/.test(raw)) return;
    const match = LINE.exec(raw);
    if (!match) {
      problems.push({ line, col: raw.search(/\S/) + 1, message: "expected KEY=VALUE" });
      return;
    }
    const [, key = "", rest = ""] = match;
    const value = readValue(rest.trimEnd());
    if (typeof value === "string" && value.includes("\0")) problems.push({ line, col: raw.length - rest.length + 1, message: `${key}: cannot contain a NUL character` });
    else if (typeof value === "string") env[key] = value;
    else problems.push({ line, col: raw.length - rest.length + 1, message: `${key}: ${value.error}` });
  });
  return { env, problems };
}

function readValue(rest: string): string | { error: string } {
  const quote = rest.charAt(0);
  if (quote === "'" || quote === '"') {
    const end = findClosingQuote(rest, quote);
    if (end < 0) return { error: `unterminated ${quote === "'" ? "single" : "double"} quote` };
    const trailing = rest.slice(end + 1).trim();
    if (trailing !== "" && !trailing.startsWith("#")) return { error: "unexpected text after the closing quote" };
    const body = rest.slice(1, end);
    return quote === "'" ? body : body.replace(/\\(.)/g, (whole, ch: string) => ESCAPES[ch] ?? whole);
  }
  return rest.replace(/\s+#.*$/, "").trim();
}

function findClosingQuote(text: string, quote: string): number {
  for (let i = 1; i < text.length; i++) {
    if (quote === '"' && text.charAt(i) === "\\") i++;
    else if (text.charAt(i) === quote) return i;
  }
  return -1;
}
