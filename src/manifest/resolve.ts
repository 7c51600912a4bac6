// From one validated service to its ServiceConfig: defaults merged key by key, paths made absolute,
// commands split, env_file read. Problems found here are collected, never thrown.
import { isAbsolute, join, resolve } from "node:path";
import * as z from "./zod.js";
import { commandArgv } from "./command.js";
import { parseEnvFile } from "./env-file.js";
import { NotUtf8Error } from "./read-bounded.js";
import { command as commandSchema } from "./schema-fields.js";
import type { ManifestIssue } from "./errors.js";
import { BUILTIN_DEFAULTS, type ValidatedDefaults, type ValidatedProbe, type ValidatedService } from "./schema.js";
import type { ActionConfig, ActionKind, ActionsConfig, LogsConfig, PingConfig, ProbeCheck, ProbeConfig, RestartConfig, ServiceConfig, StopConfig } from "./types.js";
import { parseDuration, parseSize } from "./units.js";
import { resolveSockets } from "./sockets-schema.js";
import type { IssuePath } from "./yaml-source.js";
import type { PendingIssue } from "./zod-issues.js";

export interface ResolveContext {
  /** absolute directory of the manifest: relative paths start here */
  readonly dir: string;
  /** the same directory as the user wrote it, to name env files in messages */
  readonly displayDir: string;
  readonly readFile: (absolutePath: string) => string;
  /** problems to locate in the manifest */
  readonly issues: PendingIssue[];
  /** problems already located, e.g. in an env file */
  readonly located: ManifestIssue[];
}

export interface EffectiveDefaults {
  readonly restart: RestartConfig;
  readonly stop: StopConfig;
  readonly logs: LogsConfig;
}

const B = BUILTIN_DEFAULTS;
const BUILTIN: EffectiveDefaults = {
  restart: {
    policy: B.restart.policy,
    backoff: {
      initialMs: parseDuration(B.restart.backoff.initial),
      factor: B.restart.backoff.factor,
      maxMs: parseDuration(B.restart.backoff.max),
      jitter: B.restart.backoff.jitter,
      resetAfterMs: parseDuration(B.restart.backoff.reset_after),
    },
    maxRestarts: B.restart.max_restarts,
    windowMs: parseDuration(B.restart.window),
    mode: B.restart.mode,
    readyTimeoutMs: parseDuration(B.restart.ready_timeout),
  },
  stop: { signal: B.stop.signal, timeoutMs: parseDuration(B.stop.timeout) },
  logs: { staleAfterMs: null, maxBytes: parseSize(B.logs.max_size), keep: B.logs.keep, file: null },
};

type RestartInput = NonNullable<ValidatedDefaults["restart"]>;
type StopInput = NonNullable<ValidatedDefaults["stop"]>;
type LogsInput = NonNullable<ValidatedDefaults["logs"]>;

function mergeRestart(base: RestartConfig, over: RestartInput | undefined): RestartConfig {
  const backoff = over?.backoff;
  return {
    policy: over?.policy ?? base.policy,
    backoff: {
      initialMs: backoff?.initial ?? base.backoff.initialMs,
      factor: backoff?.factor ?? base.backoff.factor,
      maxMs: backoff?.max ?? base.backoff.maxMs,
      jitter: backoff?.jitter ?? base.backoff.jitter,
      resetAfterMs: backoff?.reset_after ?? base.backoff.resetAfterMs,
    },
    maxRestarts: over?.max_restarts ?? base.maxRestarts,
    windowMs: over?.window ?? base.windowMs,
    mode: over?.mode ?? base.mode,
    readyTimeoutMs: over?.ready_timeout ?? base.readyTimeoutMs,
  };
}

const mergeStop = (base: StopConfig, over: StopInput | undefined): StopConfig => ({
  signal: over?.signal ?? base.signal,
  timeoutMs: over?.timeout ?? base.timeoutMs,
});

const mergeLogs = (base: LogsConfig, over: LogsInput | undefined, dir?: string): LogsConfig => ({
  staleAfterMs: over?.stale_after ?? base.staleAfterMs,
  maxBytes: over?.max_size ?? base.maxBytes,
  keep: over?.keep ?? base.keep,
  file: over?.file !== undefined && dir !== undefined ? resolve(dir, over.file) : base.file,
});

/** The built-in defaults overlaid by the manifest's `defaults`. */
export function effectiveDefaults(defaults: ValidatedDefaults | undefined): EffectiveDefaults {
  return {
    restart: mergeRestart(BUILTIN.restart, defaults?.restart),
    stop: mergeStop(BUILTIN.stop, defaults?.stop),
    logs: mergeLogs(BUILTIN.logs, defaults?.logs),
  };
}

export function resolveService(name: string, service: ValidatedService, defaults: EffectiveDefaults, ctx: ResolveContext): ServiceConfig {
  const at = (...rest: PropertyKey[]): IssuePath => ["services", name, ...rest];
  const command = service.command === undefined ? { ok: true as const, display: "", argv: [] as string[] } : commandArgv(service.command, service.shell);
  if (!command.ok) ctx.issues.push({ path: at("command"), anchor: "value", message: command.message });
  const envFile = service.env_file === undefined ? null : resolve(ctx.dir, service.env_file);
  const fileEnv = envFile === null ? {} : readEnvFile(envFile, service.env_file ?? "", at("env_file"), ctx);
  const dependsOn = Array.isArray(service.depends_on)
    ? Object.fromEntries(service.depends_on.map((target) => [target, "started" as const]))
    : { ...service.depends_on };
  const heartbeat = service.heartbeat;
  const limits = service.limits;
  const probe = (kind: "liveness" | "readiness"): ProbeConfig | null => {
    const input = service.probes?.[kind];
    return input === undefined ? null : resolveProbe(input, at("probes", kind, "exec"), ctx);
  };
  return {
    name,
    command: command.ok ? command.display : "",
    argv: command.ok ? command.argv : [],
    shell: service.shell,
    cwd: resolve(ctx.dir, service.cwd ?? "."),
    env: { ...fileEnv, ...service.env },
    envFile,
    dependsOn,
    restart: mergeRestart(defaults.restart, service.restart),
    stop: mergeStop(defaults.stop, service.stop),
    heartbeat: heartbeat === undefined ? null : {
      // an adopted process has no IPC channel nor notify socket of vigil's
      via: service.adopt === undefined ? heartbeat.via : "socket",
      intervalMs: heartbeat.interval,
      misses: heartbeat.misses,
      startupGraceMs: heartbeat.startup_grace,
      tokenEnv: heartbeat.token_env ?? null,
      when: heartbeat.when,
      history: heartbeat.history,
    },
    tasks: service.tasks === undefined ? null : {
      staleAfterMs: service.tasks.stale_after ?? null,
      timeoutMs: service.tasks.timeout ?? null,
      onTimeout: service.tasks.on_timeout,
    },
    logs: mergeLogs(defaults.logs, service.logs, ctx.dir),
    limits: limits === undefined ? null : { memoryBytes: limits.memory ?? null, cpuPercent: limits.cpu ?? null, forMs: limits.for },
    probes: { liveness: probe("liveness"), readiness: probe("readiness") },
    replicas: service.replicas,
    sockets: resolveSockets(service.sockets, ctx.dir),
    disabled: service.disabled ?? service.autostart === false,
    watch: service.watch === undefined ? null : {
      paths: service.watch.paths.map((path) => resolve(ctx.dir, service.cwd ?? ".", path)),
      ignore: service.watch.ignore,
      debounceMs: service.watch.debounce,
      maxRestarts: service.watch.max_restarts,
      windowMs: service.watch.window,
    },
    schedule: service.schedule === undefined ? null : {
      cron: service.schedule.cron,
      timezone: service.schedule.timezone ?? null,
      runOnStart: service.schedule.run_on_start,
      overlap: service.schedule.overlap,
    },
    adopt: service.adopt === undefined ? null : {
      pidfile: service.adopt.pidfile === undefined ? null : resolve(ctx.dir, service.adopt.pidfile),
      match: service.adopt.match ?? null,
      pollMs: service.adopt.poll,
      startTimeoutMs: service.adopt.start_timeout,
      onStop: service.adopt.on_stop,
    },
    actions: resolveActions(service.actions, at("actions"), ctx),
  };
}

/** A service with `ping:` as the check it is. */
export function pingOf(service: ValidatedService, name: string): PingConfig | null {
  const ping = service.ping;
  if (ping === undefined) return null;
  return { name, everyMs: ping.every ?? null, cron: ping.cron ?? null, timezone: ping.timezone ?? null, graceMs: ping.grace, tokenEnv: ping.token_env ?? null };
}

function resolveActions(actions: ValidatedService["actions"], path: IssuePath, ctx: ResolveContext): ActionsConfig {
  const resolved: Partial<Record<ActionKind, ActionConfig>> = {};
  for (const [kind, action] of Object.entries(actions ?? {}) as [ActionKind, NonNullable<NonNullable<ValidatedService["actions"]>[ActionKind]>][]) {
    if (action === undefined) continue;
    const command = commandArgv(action.run, action.shell);
    if (!command.ok) {
      ctx.issues.push({ path: [...path, kind, "run"], anchor: "value", message: command.message });
      continue;
    }
    // degraded and critical are warnings: vigil restarts at neither, so their action observes by default
    const then = action.then ?? (kind === "degraded" || kind === "critical" ? "none" : "restart");
    resolved[kind] = { argv: command.argv, shell: action.shell, display: command.display, then, timeoutMs: action.timeout };
  }
  return resolved;
}

/** For a service the schema rejected: still report its command and env_file problems. */
export function checkRejectedService(name: string, raw: unknown, ctx: ResolveContext): void {
  if (typeof raw !== "object" || raw === null) return;
  const fields = raw as Record<string, unknown>;
  const command = commandSchema.safeParse(fields["command"]);
  const shell = z.boolean().default(false).safeParse(fields["shell"]);
  if (command.success && shell.success) {
    const result = commandArgv(command.data, shell.data);
    if (!result.ok) ctx.issues.push({ path: ["services", name, "command"], anchor: "value", message: result.message });
  }
  const envFile = fields["env_file"];
  // a NUL is the schema's to report; the file system would only refuse the name
  if (typeof envFile === "string" && !envFile.includes("\0")) readEnvFile(resolve(ctx.dir, envFile), envFile, ["services", name, "env_file"], ctx);
}

function resolveProbe(probe: ValidatedProbe, execPath: IssuePath, ctx: ResolveContext): ProbeConfig {
  let check: ProbeCheck = { kind: "exec", argv: [], shell: false };
  if (probe.http !== undefined) check = { kind: "http", url: probe.http };
  else if (probe.tcp !== undefined) check = { kind: "tcp", ...probe.tcp };
  else if (probe.exec !== undefined) {
    const shell = probe.shell ?? false;
    const command = commandArgv(probe.exec, shell);
    if (command.ok) check = { kind: "exec", argv: command.argv, shell };
    else ctx.issues.push({ path: execPath, anchor: "value", message: command.message });
  }
  return {
    check,
    intervalMs: probe.interval,
    timeoutMs: probe.timeout,
    failures: probe.failures,
    initialDelayMs: probe.initial_delay,
  };
}

function readEnvFile(absolute: string, written: string, path: IssuePath, ctx: ResolveContext): Record<string, string> {
  let text: string;
  const file = isAbsolute(written) ? written : join(ctx.displayDir, written);
  try {
    text = ctx.readFile(absolute);
  } catch (error) {
    if (error instanceof NotUtf8Error) ctx.located.push({ file, line: error.line, col: error.col, path: path.join("."), message: error.message });
    else ctx.issues.push({ path, anchor: "value", message: `cannot read env file ${JSON.stringify(written)}: ${errorText(error)}` });
    return {};
  }
  const { env, problems } = parseEnvFile(text);
  for (const problem of problems) {
    ctx.located.push({ file, line: problem.line, col: problem.col, path: path.join("."), message: problem.message });
  }
  return env;
}

export function errorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Readonly<Record<string, string>> = {
    ENOENT: "no such file",
    EACCES: "permission denied",
    EISDIR: "is a directory",
  };
  if (code !== undefined && reasons[code] !== undefined) return `${code}: ${reasons[code]}`;
  return error instanceof Error ? error.message : String(error);
}
