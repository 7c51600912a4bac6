// A command string is split like a shell would split it, but nothing a shell would expand or
// interpret is allowed to pass silently: operators, globs and substitutions ask for `shell: true`.
import { parse, quote } from "shell-quote";

export type CommandResult =
  | { readonly ok: true; readonly display: string; readonly argv: readonly string[] }
  | { readonly ok: false; readonly message: string };

const SHELL_HINT = "set shell: true to run the command through /bin/sh -c";

export function commandArgv(command: string | readonly string[], shell: boolean): CommandResult {
  if (shell) {
    const text = typeof command === "string" ? command : command.join(" ");
    return { ok: true, display: text, argv: ["/bin/sh", "-c", text] };
  }
  if (typeof command !== "string") return { ok: true, display: quote(command), argv: [...command] };
  const split = splitCommand(command);
  return split.ok ? { ok: true, display: command, argv: split.argv } : split;
}

export function splitCommand(text: string): { ok: true; argv: string[] } | { ok: false; message: string } {
  const escaped = escapeDollars(text);
  if (!escaped.ok) return escaped;
  const argv: string[] = [];
  for (const entry of parse(escaped.text)) {
    if (typeof entry === "string") argv.push(entry);
    else if ("comment" in entry) return { ok: false, message: `a # comment needs a shell; ${SHELL_HINT}` };
    else if (entry.op === "glob") return { ok: false, message: `the glob "${entry.pattern}" needs a shell; ${SHELL_HINT}` };
    else return { ok: false, message: `"${entry.op}" needs a shell; ${SHELL_HINT}` };
  }
  if (argv.length === 0) return { ok: false, message: "command must not be empty" };
  return { ok: true, argv };
}

/** Escapes `$` outside single quotes so shell-quote keeps `$VAR` and `${VAR}` literally. */
function escapeDollars(text: string): { ok: true; text: string } | { ok: false; message: string } {
  let out = "";
  let quoted: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (quoted === "'") {
      if (ch === "'") quoted = null;
      out += ch;
    } else if (ch === "\\") {
      out += ch + text.charAt(i + 1);
      i++;
    } else if (ch === "$") {
      out += "\\$";
    } else if (ch === "`") {
      return { ok: false, message: `command substitution with \`…\` needs a shell; ${SHELL_HINT}` };
    } else {
      if (ch === '"') quoted = quoted === '"' ? null : '"';
      else if (ch === "'" && quoted === null) quoted = "'";
      out += ch;
    }
  }
  if (quoted !== null) return { ok: false, message: `unterminated ${quoted === "'" ? "single" : "double"} quote` };
  return { ok: true, text: out };
}
