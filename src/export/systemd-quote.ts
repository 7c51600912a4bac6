// Values as systemd reads them back (systemd.syntax(7), systemd.service(5) "COMMAND LINES",
// systemd.exec(5) Environment=). These are systemd's rules, not a shell's: `%` starts a specifier
// everywhere, `$` a variable only in command lines, and words are C-unescaped, quoted or not.

const PLAIN_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

/** A command line for ExecStart=: each argument a word that systemd splits back exactly. */
export function execLine(argv: readonly string[]): string {
  return argv.map(execWord).join(" ");
}

export function execWord(arg: string): string {
  // a lone `;` separates commands; its escaped form is the literal argument
  if (arg === ";") return "\\;";
  if (PLAIN_WORD.test(arg)) return arg;
  return `"${cEscape(arg).replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
}

/** One Environment= assignment: `$` has no special meaning there, `%` still does. */
export function environmentWord(name: string, value: string): string {
  const word = `${name}=${value}`;
  if (PLAIN_WORD.test(word)) return word;
  return `"${cEscape(word).replace(/%/g, "%%")}"`;
}

/** A value taken as it stands but for specifiers: paths, descriptions. Line breaks become spaces. */
export function specifierSafe(text: string): string {
  return text.replace(/%/g, "%%").replace(/[\r\n]+/g, " ");
}

function cEscape(text: string): string {
  return text.replace(/[\\"\x00-\x1f\x7f]/g, (ch) => {
    switch (ch) {
      case "\\":
        return "\\\\";
      case '"':
        return '\\"';
      case "\n":
        return "\\n";
      case "\t":
        return "\\t";
      case "\r":
        return "\\r";
      default:
        return `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
    }
  });
}
