import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completionScript, SHELLS, type CompletionSpec } from "../../src/cli/completion.js";
import { specOf } from "../../src/cli/completion-spec.js";
import { buildProgram } from "../../src/cli/program.js";
import { lacking } from "../support/programs.js";
import { CLI } from "../support/stack.js";

const run = promisify(execFile);

const SMALL: CompletionSpec = {
  program: "vigil",
  commands: [
    { name: "up", description: "start it's all", args: "none", options: [{ flags: ["-f", "--file"], description: "the manifest", value: "path" }] },
    { name: "restart", description: "restart services", args: "services", options: [] },
    { name: "export", description: "export", args: ["systemd", "kubernetes"], options: [{ flags: ["-o", "--output"], description: "a dir", value: "path" }] },
  ],
};

describe("completion scripts", () => {
  it("are made from the CLI's own definition: every visible command and option, nothing hidden", () => {
    const spec = specOf(buildProgram());
    const names = spec.commands.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["up", "attach", "logs", "status", "down", "completion"]));
    expect(names).not.toContain("__services");
    const up = spec.commands.find((c) => c.name === "up");
    expect(up?.options.flatMap((o) => o.flags)).toEqual(expect.arrayContaining(["-d", "--detach", "--timestamps", "-f", "--file"]));
    expect(up?.options.flatMap((o) => o.flags)).not.toContain("--detached-child");
    expect(spec.commands.find((c) => c.name === "restart")?.args).toBe("services");
    expect(spec.commands.find((c) => c.name === "export")?.args).toEqual(["systemd", "kubernetes"]);
    expect(spec.commands.find((c) => c.name === "logs")?.options.find((o) => o.flags.includes("--file"))?.value).toBe("path");
  });

  it("quote descriptions for each shell and name the command that lists services", () => {
    const bash = completionScript("bash", SMALL);
    expect(bash).toContain("complete -o default -o bashdefault -F _vigil vigil");
    expect(bash).toContain("vigil __services");
    const zsh = completionScript("zsh", SMALL);
    expect(zsh).toMatch(/^#compdef vigil\n/);
    expect(zsh).toContain(`'up:start it'\\''s all'`);
    const fish = completionScript("fish", SMALL);
    expect(fish).toContain(`-a up -d 'start it\\'s all'`);
    expect(fish).toContain("complete -c vigil -n '__fish_seen_subcommand_from export' -s o -l output -r -F -d 'a dir'");
    expect(fish).toContain("complete -c vigil -n '__fish_seen_subcommand_from restart' -a '(__vigil_services)'");
  });
});

describe("completion scripts in the real shells", () => {
  let dir = "";
  const scripts: Partial<Record<(typeof SHELLS)[number], string>> = {};
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-completion-"));
    // `vigil` on the PATH, as the scripts call it for service names
    await writeFile(join(dir, "vigil"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    await chmod(join(dir, "vigil"), 0o755);
    await writeFile(join(dir, "supervisor.yaml"), "version: 1\nservices:\n  api:\n    command: sleep 1\n  worker:\n    command: sleep 1\n");
    await writeFile(join(dir, "other.yaml"), "version: 1\nservices:\n  alpha:\n    command: sleep 1\n");
    for (const shell of SHELLS) {
      scripts[shell] = join(dir, `vigil.${shell}`);
      const { stdout } = await run(process.execPath, [CLI, "completion", shell]);
      await writeFile(join(dir, `vigil.${shell}`), stdout);
    }
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("bash: parses, and completes commands, options and the manifest's service names", async () => {
    await run("bash", ["-n", scripts.bash!]);
    /** COMPREPLY for a command line whose last word is being completed */
    const complete = async (...words: string[]): Promise<string[]> => {
      const script = `source ${scripts.bash}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _vigil; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const { stdout } = await run("bash", ["-c", script], { cwd: dir, env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}` } });
      return stdout.split("\n").filter((l) => l !== "");
    };
    expect(await complete("vigil", "at")).toEqual(["attach"]);
    expect(await complete("vigil", "up", "--d")).toEqual(["--detach"]);
    expect(await complete("vigil", "restart", "")).toEqual(["api", "worker"]);
    expect(await complete("vigil", "logs", "--file", "other.yaml", "")).toEqual(["alpha"]);
    expect(await complete("vigil", "status", "-f", "other.yaml", "a")).toEqual(["alpha"]);
    expect(await complete("vigil", "export", "k")).toEqual(["kubernetes"]);
    expect(await complete("vigil", "completion", "")).toEqual(["bash", "zsh", "fish"]);
  });

  it.skipIf(lacking("zsh"))("zsh: parses", async () => {
    await run("zsh", ["-n", scripts.zsh!]);
  });

  it.skipIf(lacking("fish"))("fish: parses, and completes commands and service names", async () => {
    await run("fish", ["--no-execute", scripts.fish!]);
    const complete = async (line: string): Promise<string[]> => {
      const { stdout } = await run("fish", ["-c", `source ${scripts.fish}; complete -C '${line}'`], { cwd: dir, env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}` } });
      return stdout.split("\n").filter((l) => l !== "").map((l) => l.split("\t")[0] ?? "");
    };
    expect(await complete("vigil restart ")).toEqual(["api", "worker"]);
    expect(await complete("vigil logs --file other.yaml ")).toEqual(["alpha"]);
    expect(await complete("vigil att")).toEqual(["attach"]);
  });
});
