// `vigil completion bash|zsh|fish`: a script that completes commands, their options and service names.
// The names come, at the moment of the Tab, from `vigil __services`, which finds the manifest as every
// command does (-f/--file on the line, else $VIGIL_FILE, else supervisor.yaml here or above).

import { fish } from "./completion-fish.js";

export type ValueKind = "none" | "path" | "other";

export interface OptionSpec {
  /** `-f`, `--file` */
  readonly flags: readonly string[];
  readonly description: string;
  readonly value: ValueKind;
}

export interface CommandSpec {
  readonly name: string;
  readonly description: string;
  /** what the positional arguments are: service names, fixed words, or nothing to complete */
  readonly args: "services" | "none" | readonly string[];
  readonly options: readonly OptionSpec[];
}

export interface CompletionSpec {
  readonly program: string;
  readonly commands: readonly CommandSpec[];
}

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** the hidden command that prints the manifest's service names, one a line */
export const SERVICES_COMMAND = "__services";

/** commands where -f is --follow, so that only --file names the manifest */
export const FOLLOW_F = ["logs", "events"];

export function completionScript(shell: Shell, spec: CompletionSpec): string {
  switch (shell) {
    case "bash":
      return bash(spec);
    case "zsh":
      return zsh(spec);
    case "fish":
      return fish(spec);
    default: {
      const never: never = shell;
      throw new Error(`bug: unknown shell ${String(never)}`);
    }
  }
}

export const flagsOf = (cmd: CommandSpec, value?: ValueKind): string[] =>
  cmd.options.filter((o) => value === undefined || o.value === value).flatMap((o) => o.flags);

/** a word in single quotes for sh, bash and zsh */
const sq = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

function bash(spec: CompletionSpec): string {
  const p = spec.program;
  const fn = `_${p.replace(/\W/g, "_")}`;
  const cases = spec.commands.map((cmd) => {
    const args = cmd.args === "services" ? "services=1" : cmd.args === "none" ? "" : `choices=${sq(cmd.args.join(" "))}`;
    return [
      `    ${cmd.name})`,
      `      opts=${sq(flagsOf(cmd).join(" "))}`,
      `      pathopts=${sq(flagsOf(cmd, "path").join(" "))}`,
      `      valueopts=${sq(flagsOf(cmd, "other").join(" "))}`,
      ...(args === "" ? [] : [`      ${args}`]),
      "      ;;",
    ].join("\n");
  });
  return `# ${p} completion for bash. Load it in ~/.bashrc:
#   source <(${p} completion bash)
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local cmd="" file="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      --file) file=\${COMP_WORDS[i+1]} ;;
      -f) case $cmd in ${FOLLOW_F.join("|")}) ;; *) file=\${COMP_WORDS[i+1]} ;; esac ;;
      -*) ;;
      *) [[ -z $cmd ]] && cmd=\${COMP_WORDS[i]} ;;
    esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W ${sq([...spec.commands.map((c) => c.name), "--help", "--version"].join(" "))} -- "$cur"))
    return
  fi
  local opts="" pathopts="" valueopts="" choices="" services=0
  case $cmd in
${cases.join("\n")}
  esac
  if [[ -n $prev && " $pathopts " == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  [[ -n $prev && " $valueopts " == *" $prev "* ]] && return
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -n $choices ]]; then
    COMPREPLY=($(compgen -W "$choices" -- "$cur"))
  elif ((services)); then
    COMPREPLY=($(compgen -W "$(${p} ${SERVICES_COMMAND} \${file:+--file "$file"} 2>/dev/null)" -- "$cur"))
  fi
}
complete -o default -o bashdefault -F ${fn} ${p} 2>/dev/null || complete -F ${fn} ${p}
`;
}

function zsh(spec: CompletionSpec): string {
  const p = spec.program;
  const fn = `_${p.replace(/\W/g, "_")}`;
  const described = spec.commands.map((c) => `    ${sq(`${c.name}:${c.description}`)}`);
  const cases = spec.commands.map((cmd) => {
    const args = cmd.args === "services" ? "services=1" : cmd.args === "none" ? "" : `choices=(${cmd.args.join(" ")})`;
    return [
      `    ${cmd.name})`,
      `      opts=(${flagsOf(cmd).join(" ")})`,
      `      pathopts=(${flagsOf(cmd, "path").join(" ")})`,
      `      valueopts=(${flagsOf(cmd, "other").join(" ")})`,
      ...(args === "" ? [] : [`      ${args}`]),
      "      ;;",
    ].join("\n");
  });
  return `#compdef ${p}
# ${p} completion for zsh. Load it in ~/.zshrc (after compinit):
#   source <(${p} completion zsh)
# or save it as _${p} in a directory of $fpath.
${fn}() {
  # \$words is zsh's: the words of the command line
  local -a commands opts pathopts valueopts choices
  commands=(
${described.join("\n")}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'command' commands
    return
  fi
  local cmd=\${words[2]} file="" i services=0
  local -a line
  line=("\${words[@]}")
  for ((i = 3; i < CURRENT; i++)); do
    case \${line[i]} in
      --file) file=\${line[i+1]} ;;
      -f) case $cmd in ${FOLLOW_F.join("|")}) ;; *) file=\${line[i+1]} ;; esac ;;
    esac
  done
  case $cmd in
${cases.join("\n")}
  esac
  local prev=\${line[CURRENT-1]}
  if (( \${pathopts[(Ie)$prev]} )); then
    _files
    return
  fi
  (( \${valueopts[(Ie)$prev]} )) && return
  if [[ \${line[CURRENT]} == -* ]]; then
    compadd -- $opts
  elif (( \${#choices} )); then
    compadd -- $choices
  elif (( services )); then
    compadd -- \${(f)"$(${p} ${SERVICES_COMMAND} \${file:+--file} \${file:+$file} 2>/dev/null)"}
  fi
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${p}
fi
`;
}
