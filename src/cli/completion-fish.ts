// The fish completion script (see completion.ts).
import { FOLLOW_F, SERVICES_COMMAND, type CompletionSpec } from "./completion.js";

/** a word in single quotes for fish, where only \\ and ' are special inside them */
const fq = (text: string): string => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;

export function fish(spec: CompletionSpec): string {
  const p = spec.program;
  const helper = `__${p.replace(/\W/g, "_")}_services`;
  const names = spec.commands.map((c) => c.name).join(" ");
  const lines = [
    `# ${p} completion for fish. Load it in ~/.config/fish/config.fish:`,
    `#   ${p} completion fish | source`,
    `# or save it as ~/.config/fish/completions/${p}.fish`,
    `function ${helper}`,
    "    set -l tokens (commandline -opc)",
    "    set -l file",
    "    for i in (seq 2 (count $tokens))",
    "        set -l next (math $i + 1)",
    "        if test $next -le (count $tokens)",
    `            if test "$tokens[$i]" = --file; or begin; test "$tokens[$i]" = -f; and not contains -- "$tokens[2]" ${FOLLOW_F.join(" ")}; end`,
    "                set file --file $tokens[$next]",
    "            end",
    "        end",
    "    end",
    `    ${p} ${SERVICES_COMMAND} $file 2>/dev/null`,
    "end",
    `complete -c ${p} -f`,
    ...spec.commands.map((c) => `complete -c ${p} -n ${fq(`not __fish_seen_subcommand_from ${names}`)} -a ${c.name} -d ${fq(c.description)}`),
  ];
  for (const cmd of spec.commands) {
    const when = `-n ${fq(`__fish_seen_subcommand_from ${cmd.name}`)}`;
    for (const o of cmd.options) {
      const short = o.flags.find((f) => /^-\w$/.test(f));
      const long = o.flags.find((f) => f.startsWith("--"));
      const parts = [`complete -c ${p} ${when}`];
      if (short) parts.push(`-s ${short.slice(1)}`);
      if (long) parts.push(`-l ${long.slice(2)}`);
      if (o.value === "path") parts.push("-r -F");
      else if (o.value === "other") parts.push("-x");
      parts.push(`-d ${fq(o.description)}`);
      lines.push(parts.join(" "));
    }
    if (cmd.args === "services") lines.push(`complete -c ${p} ${when} -a ${fq(`(${helper})`)}`);
    else if (cmd.args !== "none") lines.push(`complete -c ${p} ${when} -a ${fq(cmd.args.join(" "))}`);
  }
  return `${lines.join("\n")}\n`;
}
