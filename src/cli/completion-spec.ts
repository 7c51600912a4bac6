// What shell completion knows of the CLI, read off commander's definition of it, so that a new command
// or option is completed without a change here.
import type { Command } from "commander";
import type { CompletionSpec, ValueKind } from "./completion.js";

/** positional arguments that are not service names: their words */
const CHOICES: Readonly<Record<string, readonly string[]>> = {
  export: ["systemd", "kubernetes"],
  completion: ["bash", "zsh", "fish"],
};

/** arguments that take service (or instance) names */
const SERVICE_ARGS = new Set(["name", "names"]);

export function specOf(program: Command): CompletionSpec {
  const help = program.createHelp();
  return {
    program: program.name(),
    commands: help.visibleCommands(program).map((cmd) => {
      const first = cmd.registeredArguments[0]?.name();
      const choices = CHOICES[cmd.name()];
      return {
        name: cmd.name(),
        description: cmd.description(),
        args: choices ?? (first !== undefined && SERVICE_ARGS.has(first) ? "services" : "none"),
        options: help.visibleOptions(cmd).map((o) => ({
          flags: [o.short, o.long].filter((f): f is string => f !== undefined),
          description: o.description,
          value: valueKind(o.flags, o.required || o.optional),
        })),
      };
    }),
  };
}

function valueKind(flags: string, takesValue: boolean): ValueKind {
  if (!takesValue) return "none";
  return /<(FILE|DIR)>/.test(flags) ? "path" : "other";
}
