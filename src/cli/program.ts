// The commands and their options, with commander. Each command's module is loaded when that command
// runs: `vigil status` must not pay for loading the supervisor, the manifest schema and the spawn and
// log libraries (about 300 ms here, see BENCHMARKS.md).
import { Command, InvalidArgumentError, Option } from "commander";
import { readDuration } from "../manifest/units.js";
import { manifestFile } from "./find-manifest.js";
import { UserError } from "./user-error.js";

export const VERSION = "0.1.0";

const FILE_HELP = "the manifest (default: $VIGIL_FILE, else supervisor.yaml here or in the nearest directory above)";
const fileOption = (): Option => new Option("-f, --file <FILE>", FILE_HELP);

export function buildProgram(): Command {
  const program = new Command("vigil")
    .description("process supervisor and heartbeat watchdog")
    .version(VERSION, "-V, --version")
    .showSuggestionAfterError(true)
    .exitOverride();

  program
    .command("up")
    .description("start every service and supervise them in the foreground (or in the background with -d)")
    .argument("[names...]", "start only these services and what they depend on; the others stay stopped until `vigil start`")
    .option("-d, --detach", "start the supervisor in the background; return once every service has started or failed, with a summary")
    .addOption(new Option("--wait-timeout <DURATION>", "with -d: how long to wait for every service to start or fail").default(120_000, "2m").argParser(duration))
    .option("--timestamps", "an ISO time before each line of children's output")
    .addOption(fileOption())
    .addOption(new Option("--detached-child", "run as the background supervisor of `vigil up -d`").hideHelp())
    .action(async (names: string[], opts: { file?: string; detach?: boolean; waitTimeout: number; timestamps?: boolean; detachedChild?: boolean }) => {
      // before loading the supervisor, whose modules alone need more descriptors than a tiny limit allows
      const floor = (await import("../runtime/state/fd-limit.js")).fdFloorProblem();
      if (floor !== null) throw new UserError(floor, 1);
      const file = manifestFile(opts.file, 2);
      const timestamps = opts.timestamps === true;
      if (opts.detach === true) {
        process.exitCode = await (await import("./detached.js")).upDetached(file, { waitMs: opts.waitTimeout, timestamps, names });
        return;
      }
      const { upCommand, tellParent } = await import("./up.js");
      if (opts.detachedChild !== true) {
        process.exitCode = await upCommand(file, { timestamps, only: names });
        return;
      }
      // nobody reads this process's stderr: what would go there goes to `vigil up -d`, which prints it
      try {
        process.exitCode = await upCommand(file, { timestamps, detachedChild: true, only: names });
      } catch (err) {
        const failure = err instanceof UserError ? err : new UserError(`vigil: internal error: ${(err as Error)?.stack ?? String(err)}`, 70);
        await tellParent({ type: "failed", message: failure.message, exitCode: failure.exitCode });
        process.exitCode = failure.exitCode;
      }
    });
  program
    .command("check")
    .description("validate the manifest")
    .option("--print", "print the manifest as it will run: variables replaced, secrets masked, as YAML")
    .addOption(fileOption())
    .action(async (opts: { file?: string; print?: boolean }) => (await import("./check.js")).checkCommand(manifestFile(opts.file, 2), { print: opts.print === true }));
  program
    .command("status")
    .alias("ps")
    .description("show the services of the running supervisor")
    .argument("[names...]", "only these services")
    .option("--json", "print the status document")
    .option("--history", "print the status document with each service's last 60 resource samples (implies --json)")
    .option("-w, --watch", "redraw every second until ctrl-c")
    .addOption(fileOption())
    .action(async (names: string[], opts: { file?: string; json?: boolean; history?: boolean; watch?: boolean }) =>
      (await import("./status.js")).statusCommand(names, manifestFile(opts.file, 1), {
        json: opts.json === true || opts.history === true,
        history: opts.history === true,
        watch: opts.watch === true,
      }),
    );
  program
    .command("health")
    .description("for cron and scripts: one line per service that is not well; exit 0 all well, 3 some not, 1 no supervisor")
    .argument("[names...]", "only these services")
    .option("--json", "print every service's verdict as JSON")
    .addOption(fileOption())
    .action(async (names: string[], opts: { file?: string; json?: boolean }) => {
      process.exitCode = await (await import("./health.js")).healthCommand(names, manifestFile(opts.file, 1), { json: opts.json === true });
    });
  program
    .command("beats")
    .description("the beats kept of a service (time and data), with the mean and p95 interval and the late ones")
    .argument("<name>", "a service or one instance (web.1)")
    .option("--since <WHEN>", "only beats since a duration ago (10m) or a date/time (2026-11-22T10:00)")
    .option("--until <WHEN>", "only beats up to a duration ago or a date/time")
    .option("--json", "print the answer as JSON")
    .addOption(fileOption())
    .action(async (name: string, opts: { file?: string; since?: string; until?: string; json?: boolean }) =>
      (await import("./beats.js")).beatsCommand(name, manifestFile(opts.file, 1), { since: opts.since, until: opts.until, json: opts.json === true }),
    );
  for (const cmd of ["start", "stop", "restart"] as const) {
    const command = program
      .command(cmd)
      .description(`${cmd} services of the running supervisor (no name: every service)`)
      .argument("[names...]", "services or instances (web, web.1); none: all")
      .addOption(fileOption());
    if (cmd !== "start") command.option("--no-wait", `return at once instead of when ${cmd === "stop" ? "the children are gone" : "the new children run"}`);
    command.action(async (names: string[], opts: { file?: string; wait?: boolean }) =>
      (await import("./control.js")).controlCommand(cmd, names, manifestFile(opts.file, 1), { wait: cmd !== "start" && opts.wait !== false }),
    );
  }
  program
    .command("scale")
    .description("run N instances of a service (added ones start, surplus ones stop from the highest index down)")
    .argument("<name>", "the service")
    .argument("<replicas>", "how many instances", replicaCount)
    .addOption(fileOption())
    .action(async (name: string, replicas: number, opts: { file?: string }) => (await import("./control.js")).scaleCommand(name, replicas, manifestFile(opts.file, 1)));
  program
    .command("reload")
    .description("re-read the manifest now and apply what changed (the same as saving it, or SIGHUP)")
    .addOption(fileOption())
    .action(async (opts: { file?: string }) => (await import("./control.js")).reloadCommand(manifestFile(opts.file, 1)));
  program
    .command("down")
    .description("stop the running supervisor and every child, and wait until they are gone")
    .addOption(fileOption())
    .action(async (opts: { file?: string }) => (await import("./down.js")).downCommand(manifestFile(opts.file, 1)));
  program
    .command("logs")
    .description("print the captured output of services, and follow it")
    .argument("[names...]", "only these services (default: every service with a log)")
    .option("-f, --follow", "keep printing lines as they are written, until ctrl-c")
    .addOption(new Option("-n, --lines <N>", "how many of the last lines to print").default(10).argParser(lineCount))
    // -f is --follow here, as in tail; the manifest goes by its long option only
    .option("--timestamps", "an ISO time before each line: when the supervisor read it")
    .option("--json", "one JSON object per line: time, service, instance, stream, line")
    .addOption(new Option("--file <FILE>", FILE_HELP))
    .action(async (names: string[], opts: { file?: string; follow?: boolean; lines: number; timestamps?: boolean; json?: boolean }) =>
      (await import("./logs.js")).logsCommand(names, manifestFile(opts.file, 1), {
        follow: opts.follow === true,
        lines: opts.lines,
        timestamps: opts.timestamps === true,
        json: opts.json === true,
      }),
    );
  program
    .command("attach")
    .description("follow the running stack's output as `vigil up` prints it; ctrl-c detaches and stops nothing")
    .argument("[names...]", "only these services (default: every service)")
    .addOption(new Option("-n, --lines <N>", "print the last N lines of each service first").default(0).argParser(lineCount))
    .option("--timestamps", "an ISO time before each line")
    .addOption(fileOption())
    .action(async (names: string[], opts: { file?: string; lines: number; timestamps?: boolean }) =>
      (await import("./attach.js")).attachCommand(names, manifestFile(opts.file, 1), { lines: opts.lines, timestamps: opts.timestamps === true }),
    );
  program
    .command("events")
    .description("print the event journal (state changes, restarts, failures, alerts' causes), and follow it")
    .option("--since <WHEN>", "only events since a duration ago (30m, 1h) or a date/time (2026-11-22T10:00)")
    .option("--until <WHEN>", "only events up to a duration ago (10m) or a date/time")
    .option("--service <NAME>", "only the events of this service")
    .addOption(new Option("-n, --lines <N>", "only the last N events (default: all of the current journal file)").argParser(lineCount))
    .option("--json", "one JSON object per line")
    .option("-f, --follow", "keep printing events as they happen, until ctrl-c")
    // -f is --follow here, as in `vigil logs`; the manifest goes by its long option only
    .addOption(new Option("--file <FILE>", FILE_HELP))
    .action(async (opts: { file?: string; since?: string; until?: string; service?: string; lines?: number; json?: boolean; follow?: boolean }) =>
      (await import("./events.js")).eventsCommand(manifestFile(opts.file, 1), {
        since: opts.since,
        until: opts.until,
        service: opts.service,
        lines: opts.lines,
        json: opts.json === true,
        follow: opts.follow === true,
      }),
    );
  program
    .command("export")
    .description("write the stack as systemd units or Kubernetes manifests; every key that does not map is named in a warning")
    .argument("<target>", "systemd or kubernetes")
    .option("-o, --output <DIR>", "write one file per unit or object into DIR (created if missing); default: all to stdout")
    .addOption(fileOption())
    .action(async (target: string, opts: { file?: string; output?: string }) => (await import("./export.js")).exportCommand(target, manifestFile(opts.file, 2), opts.output));
  program
    .command("install")
    .description("write a systemd unit that runs `vigil up` for this manifest at boot (never runs systemctl itself)")
    .option("--user", "a user unit in ~/.config/systemd/user instead of a system unit in /etc/systemd/system")
    .option("--print", "print the unit instead of writing it")
    .option("--force", "replace a different unit of the same name")
    .addOption(fileOption())
    .action(async (opts: { file?: string; user?: boolean; print?: boolean; force?: boolean }) =>
      (await import("./install.js")).installCommand(manifestFile(opts.file, 2), { user: opts.user === true, print: opts.print === true, force: opts.force === true }),
    );
  program
    .command("beat")
    .description("send one heartbeat message from a child, using the VIGIL_* variables")
    .option("--ready", "report the service ready (for depends_on: healthy)")
    .option("--status <TEXT>", "report a status text")
    .option("--data <JSON>", "attach JSON data to the beat")
    .option("--task <ID>", "report a task: with --start, --progress or --end")
    .option("--start", "with --task: the task starts; with --service: a ping: check's job has started (its runtime is measured)")
    .option("--progress", "with --task: the task makes progress")
    .option("--end", "with --task: the task ends")
    .option("--name <NAME>", "with --task: what the task is, for people")
    .option("--service <NAME>", "beat for NAME: a ping: check, an adopted service or an unmanaged name (token from VIGIL_TOKEN or the manifest's token_env)")
    .option("--fail", "with --service: a ping: check's job has failed")
    .option("--exit-code <N>", "with --service: a ping: check's job ended with this status (0 is success)")
    .addOption(fileOption())
    .action(
      async (opts: { ready?: boolean; status?: string; data?: string; task?: string; start?: boolean; progress?: boolean; end?: boolean; name?: string; service?: string; fail?: boolean; exitCode?: string; file?: string }) =>
        (await import("./beat.js")).beatCommand({ ...opts, ...(opts.service === undefined ? {} : { file: manifestFile(opts.file, 1) }) }),
    );
  program
    .command("completion")
    .description("print a script that completes commands, options and service names in bash, zsh or fish")
    .argument("<shell>", "bash, zsh or fish")
    .action(async (shell: string) => {
      const { completionScript, SHELLS } = await import("./completion.js");
      const { specOf } = await import("./completion-spec.js");
      const known = SHELLS.find((s) => s === shell);
      if (known === undefined) throw new UserError(`vigil: unknown shell ${JSON.stringify(shell)} (known: ${SHELLS.join(", ")})`, 2);
      process.stdout.write(completionScript(known, specOf(program)));
    });
  // what the completion scripts ask at a Tab: the manifest's service names, one a line, nothing when there is none
  program
    .command("__services", { hidden: true })
    .addOption(fileOption())
    .action(async (opts: { file?: string }) => {
      const { findManifest } = await import("./find-manifest.js");
      const found = findManifest(opts.file);
      if (!found.found) return;
      const { manifestNames } = await import("./manifest-names.js");
      const names = manifestNames(found.file);
      if (names.length > 0) process.stdout.write(`${names.join("\n")}\n`);
    });
  return program;
}

function replicaCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a whole number of instances, e.g. 3");
  return Number(value);
}

function duration(value: string): number {
  const read = readDuration(value);
  if (!read.ok) throw new InvalidArgumentError(read.message);
  return read.value;
}

function lineCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a whole number of lines, e.g. 10");
  return Number(value);
}
