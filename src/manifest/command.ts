// A command string is split like a shell would split it, but nothing a shell would expand or
// interpret is allowed to pass silently: operators, globs and substitutions ask for `shell: true`.
// The splitter is one pass over the text: a command of any length costs time in proportion to it.
import { quote } from "shell-quote";

export type CommandResult =
  | { readonly ok: true; readonly display: string; readonly argv: readonly string[] }
  | { readonly ok: false; readonly message: string };

const SHELL_HINT = "set shell: true to run the command through /bin/sh -c";

/** Linux refuses to exec an argument longer than this (MAX_ARG_STRLEN, 32 pages, less the NUL). */
export const MAX_ARGUMENT_BYTES = 131_071;

export function commandArgv(command: string | readonly string[], shell: boolean): CommandResult {
  const result = shell ? shellArgv(command) : directArgv(command);
  if (!result.ok) return result;
  const problem = result.argv.map(argumentProblem).find((message) => message !== undefined);
  return problem === undefined ? result : { ok: false, message: problem };
}

function shellArgv(command: string | readonly string[]): CommandResult {
  const text = typeof command === "string" ? command : command.join(" ");
  return { ok: true, display: text, argv: ["/bin/sh", "-c", text] };
}

function directArgv(command: string | readonly string[]): CommandResult {
  if (typeof command !== "string") return { ok: true, display: quote(command), argv: [...command] };
  const split = splitCommand(command);
  return split.ok ? { ok: true, display: command, argv: split.argv } : split;
}

/** What exec would refuse, found now rather than at every spawn. */
function argumentProblem(argument: string): string | undefined {
  if (argument.includes("\0")) return "a command cannot contain a NUL character";
  const bytes = Buffer.byteLength(argument);
  if (bytes > MAX_ARGUMENT_BYTES) {
    return `an argument of ${bytes} bytes is longer than Linux allows (${MAX_ARGUMENT_BYTES} bytes); put it in a file or a script`;
  }
  return undefined;
}

// longest first, as a shell reads them; any of them needs a shell
const OPERATORS = ["<<<", "||", "&&", ";;", "|&", "<(", ">>", ">&", "<&", "&", ";", "(", ")", "|", "<", ">"] as const;
const WHITESPACE = /\s/;
// a run of characters that are only themselves: appended as one slice, not one by one
const PLAIN_RUN = /[^\s'"`\\&;()|<>*?]+/y;
const QUOTED_RUN = /[^"`\\]+/y;

function runAt(pattern: RegExp, text: string, start: number): number {
  pattern.lastIndex = start;
  return pattern.test(text) ? pattern.lastIndex : start;
}

type Split = { ok: true; argv: string[] } | { ok: false; message: string };

/**
 * Words split on whitespace; '…' is literal; "…" takes \" \\ \$ \` as escapes; a backslash outside
 * quotes escapes the next character; `$VAR` and `${VAR}` stay literal, since no shell expands them.
 */
export function splitCommand(text: string): Split {
  const argv: string[] = [];
  let word: string | null = null; // null between words, so that "" is an (empty) word
  let glob = false;
  const endWord = (): Split | undefined => {
    if (word === null) return undefined;
    if (glob) return { ok: false, message: `the glob ${JSON.stringify(word)} needs a shell; ${SHELL_HINT}` };
    argv.push(word);
    word = null;
    return undefined;
  };
  for (let i = 0; i < text.length; ) {
    const ch = text.charAt(i);
    if (WHITESPACE.test(ch)) {
      const failed = endWord();
      if (failed) return failed;
      i++;
    } else if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return { ok: false, message: "unterminated single quote" };
      word = (word ?? "") + text.slice(i + 1, close);
      i = close + 1;
    } else if (ch === '"') {
      const quoted = readDoubleQuoted(text, i + 1);
      if (!quoted.ok) return quoted;
      word = (word ?? "") + quoted.text;
      i = quoted.next;
    } else if (ch === "`") {
      return { ok: false, message: `command substitution with \`…\` needs a shell; ${SHELL_HINT}` };
    } else if (ch === "\\") {
      word = (word ?? "") + text.charAt(i + 1);
      i += 2;
    } else if (ch === "#" && word === null) {
      return { ok: false, message: `a # comment needs a shell; ${SHELL_HINT}` };
    } else if (ch === "*" || ch === "?") {
      glob = true;
      word = (word ?? "") + ch;
      i++;
    } else {
      const end = runAt(PLAIN_RUN, text, i);
      if (end === i) {
        const op = OPERATORS.find((candidate) => text.startsWith(candidate, i)) ?? ch;
        return { ok: false, message: `"${op}" needs a shell; ${SHELL_HINT}` };
      }
      word = (word ?? "") + text.slice(i, end);
      i = end;
    }
  }
  const failed = endWord();
  if (failed) return failed;
  if (argv.length === 0) return { ok: false, message: "command must not be empty" };
  return { ok: true, argv };
}

const DOUBLE_QUOTE_ESCAPES = new Set(['"', "\\", "$", "`"]);

function readDoubleQuoted(text: string, start: number): { ok: true; text: string; next: number } | { ok: false; message: string } {
  let out = "";
  for (let i = start; i < text.length; ) {
    const end = runAt(QUOTED_RUN, text, i);
    out += text.slice(i, end);
    i = end;
    const ch = text.charAt(i);
    if (ch === '"') return { ok: true, text: out, next: i + 1 };
    if (ch === "`") return { ok: false, message: `command substitution with \`…\` needs a shell; ${SHELL_HINT}` };
    if (ch === "\\" && DOUBLE_QUOTE_ESCAPES.has(text.charAt(i + 1))) {
      out += text.charAt(i + 1);
      i += 2;
    } else if (ch === "\\") {
      out += ch;
      i++;
    }
  }
  return { ok: false, message: "unterminated double quote" };
}
