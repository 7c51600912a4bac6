// supervisor.yaml -> Manifest. Every problem is collected with its line and column, then thrown
// as one ManifestError; nothing is half-applied.
import { dirname, join, resolve } from "node:path";
import { commandArgv } from "./command.js";
import { checkDependencies, dependencyEdges } from "./dependencies.js";
import { parseEnvFile } from "./env-file.js";
import { ManifestError, unexpectedProblem, type ManifestIssue } from "./errors.js";
import { interpolateManifest, type PlacedProblem } from "./interpolate-manifest.js";
import { checkRejectedService, effectiveDefaults, errorText, pingOf, resolveService, type ResolveContext } from "./resolve.js";
import { FileTooLargeError, MAX_ENV_FILE_BYTES, MAX_MANIFEST_BYTES, NotUtf8Error, readBounded, readBoundedSync } from "./read-bounded.js";
import { defaultsSchema, manifestSchema, serviceSchema, type ValidatedAlertRule } from "./schema.js";
import { NameSuggestions } from "./suggest.js";
import { notifyUnavailable } from "../runtime/notify/unix-dgram.js";
import type { AlertRule, AlertTarget, Manifest, PingConfig, ServiceConfig } from "./types.js";
import { keysInOrder, locate, locateDollar, parseYaml, toData, type IssuePath, type YamlSource } from "./yaml-source.js";
import { fromZodIssues, issueMessages, type PendingIssue } from "./zod-issues.js";

export interface ParseOptions {
  /** reads env_file contents; defaults to reading the file, up to MAX_ENV_FILE_BYTES */
  readonly readFile?: (absolutePath: string) => string;
  /** why `heartbeat.via: notify` cannot work here, or null; defaults to trying to load unix-dgram */
  readonly notifyUnavailable?: () => string | null;
  /** the variables ${VAR} takes first; default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** reads the .env beside the manifest (undefined: there is none); default the file, up to MAX_ENV_FILE_BYTES */
  readonly readDotEnv?: (absolutePath: string) => string | undefined;
}

/** The manifest and the document it was read from after interpolation, for `vigil check --print`. */
export interface LoadedManifest {
  readonly manifest: Manifest;
  /** the document with every variable replaced, values of secret-named variables as *** */
  readonly shown: unknown;
}

/** The file beside the manifest that ${VAR} reads after the environment. */
export const DOT_ENV = ".env";

export async function loadManifest(file: string, options: ParseOptions = {}): Promise<Manifest> {
  return (await loadManifestDocument(file, options)).manifest;
}

export async function loadManifestDocument(file: string, options: ParseOptions = {}): Promise<LoadedManifest> {
  let text: string;
  try {
    text = await readBounded(file, MAX_MANIFEST_BYTES);
  } catch (error) {
    if (error instanceof NotUtf8Error) throw new ManifestError([{ file, line: error.line, col: error.col, path: "", message: error.message }]);
    throw new ManifestError([{ file, path: "", message: `cannot read manifest: ${errorText(error)}` }], { cause: error });
  }
  return parseManifestDocument(text, file, options);
}

const DEFAULT_SAMPLE_MS = 2_000;

/**
 * `file` is used as given in messages, and resolved for the paths in the manifest. Whatever the text,
 * this returns a Manifest or throws a ManifestError: a check that fails unexpectedly on some input is
 * a bug, but the user still gets a located problem instead of a crash.
 */
export function parseManifest(text: string, file: string, options: ParseOptions = {}): Manifest {
  return parseManifestDocument(text, file, options).manifest;
}

export function parseManifestDocument(text: string, file: string, options: ParseOptions = {}): LoadedManifest {
  try {
    return readManifest(text, file, options);
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    throw new ManifestError([{ file, line: 1, col: 1, path: "", message: unexpectedProblem(error) }], { cause: error });
  }
}

function readManifest(text: string, file: string, options: ParseOptions): LoadedManifest {
  if (text.length > MAX_MANIFEST_BYTES) {
    throw new ManifestError([{ file, line: 1, col: 1, path: "", message: `the manifest is ${new FileTooLargeError(MAX_MANIFEST_BYTES).message}` }]);
  }
  const { source, problems } = parseYaml(text);
  if (problems.length > 0) {
    throw new ManifestError(problems.map((problem) => ({ file, line: problem.line, col: problem.col, path: "", message: problem.message })));
  }
  if (source.doc.contents === null) {
    throw new ManifestError([{ file, line: 1, col: 1, path: "", message: "the manifest is empty: it needs version: 1 and services" }]);
  }
  const read = toData(source);
  if (!read.ok) throw new ManifestError([{ file, ...read.at, path: "", message: read.message }], { cause: read.cause });
  const absolute = resolve(file);
  const dotEnv = dotEnvVariables(join(dirname(absolute), DOT_ENV), join(dirname(file), DOT_ENV), options);
  const env = options.env ?? process.env;
  const interpolated = interpolateManifest(read.data, (name) => env[name] ?? dotEnv.get()[name]);
  const input = interpolated.data;
  const interpolationIssues = [...dotEnv.problems, ...interpolated.problems.map((problem) => placedIssue(problem, file, source, read.data))];
  const interpolatedPaths = new Set(interpolated.problems.map((problem) => problem.path.map(String).join(".")));

  const issues: PendingIssue[] = [];
  const bugs: unknown[] = [];
  const guard = <T>(path: IssuePath, fallback: T, step: () => T): T => {
    try {
      return step();
    } catch (error) {
      bugs.push(error);
      issues.push({ path, anchor: "value", message: unexpectedProblem(error) });
      return fallback;
    }
  };
  const parsed = guard([], undefined, () => manifestSchema.safeParse(input, { error: issueMessages, reportInput: true }));
  if (parsed?.success === false) append(issues, fromZodIssues(parsed.error.issues, manifestSchema));
  const ctx: ResolveContext = {
    dir: dirname(absolute),
    displayDir: dirname(file),
    readFile: options.readFile ?? ((path) => readBoundedSync(path, MAX_ENV_FILE_BYTES)),
    issues,
    located: [],
  };
  const rawServices = field(input, "services");
  const names = serviceNames(source, rawServices);
  const suggestions = new NameSuggestions(names);
  append(issues, guard(["services"], [], () => checkDependencies(dependencyEdges(rawServices), names, suggestions)));
  const pings: PingConfig[] = [];
  const services = resolveServices(names, input, ctx, guard, pings);
  // a ping check runs nothing: nothing can wait for it to start
  const checks = new Set(pings.map((p) => p.name));
  for (const service of services) {
    for (const dep of Object.keys(service.dependsOn)) {
      if (checks.has(dep)) issues.push({ path: ["services", service.name, "depends_on", dep], anchor: "key", message: `${dep} is a ping check: it runs nothing, so nothing can depend on it` });
    }
  }
  append(issues, checkNotify(services, options.notifyUnavailable ?? notifyUnavailable));
  append(issues, checkStartFirstByDefault(services, rawServices));
  append(issues, guard(["alerts"], [], () => checkAlertServices(field(input, "alerts"), names, suggestions)));
  const alerts = parsed?.success === true ? guard(["alerts"], [], () => resolveAlerts(parsed.data.alerts ?? [], ctx)) : [];

  if (issues.length > 0 || ctx.located.length > 0 || interpolationIssues.length > 0) {
    // a value whose variable is missing was checked as written: what that finds is not news
    const located = issues.filter((issue) => !interpolatedPaths.has(issue.path.map(String).join("."))).map((issue) => toManifestIssue(issue, file, source));
    throw new ManifestError(withoutRepeats([...interpolationIssues, ...located, ...ctx.located]), bugs.length > 0 ? { cause: bugs[0] } : undefined);
  }
  if (parsed?.success !== true) throw new Error("bug: the schema rejected a manifest without reporting why");
  const data = parsed.data;
  const stateDir = resolve(ctx.dir, data.state_dir);
  const disk = data.checks?.disk;
  const manifest: Manifest = {
    version: 1,
    file: absolute,
    stateDir,
    services,
    http: data.http ? { host: data.http.listen.host, port: data.http.listen.port, tokenEnv: data.http.token_env ?? null } : null,
    resources: { intervalMs: data.resources?.interval ?? DEFAULT_SAMPLE_MS, intervalSet: data.resources?.interval !== undefined },
    checks: {
      disk: disk ? { path: disk.path === undefined ? stateDir : resolve(ctx.dir, disk.path), warnPercent: disk.warn, criticalPercent: disk.critical } : null,
      cpu: data.checks?.cpu ? { warnPercent: data.checks.cpu.warn, criticalPercent: data.checks.cpu.critical } : null,
      memory: data.checks?.memory ? { warnPercent: data.checks.memory.warn, criticalPercent: data.checks.memory.critical } : null,
    },
    alerts,
    pings,
    unmanaged: data.heartbeat?.unmanaged === true && data.heartbeat.token_env !== undefined
      ? { tokenEnv: data.heartbeat.token_env, expireAfterMs: data.heartbeat.expire_after, max: data.heartbeat.max }
      : null,
  };
  return { manifest, shown: interpolated.masked };
}

interface DotEnv {
  /** its variables, read on first use: a manifest whose variables are all in the environment never reads it */
  get(): Readonly<Record<string, string>>;
  /** what was wrong with it, once read */
  readonly problems: ManifestIssue[];
}

function dotEnvVariables(absolute: string, shown: string, options: ParseOptions): DotEnv {
  const problems: ManifestIssue[] = [];
  let variables: Record<string, string> | undefined;
  const read = options.readDotEnv ?? readDotEnvFile;
  return {
    problems,
    get() {
      if (variables !== undefined) return variables;
      variables = {};
      let text: string | undefined;
      try {
        text = read(absolute);
      } catch (error) {
        if (error instanceof NotUtf8Error) problems.push({ file: shown, line: error.line, col: error.col, path: "", message: error.message });
        else problems.push({ file: shown, path: "", message: `cannot read ${DOT_ENV}: ${errorText(error)}` });
      }
      if (text === undefined) return variables;
      const parsed = parseEnvFile(text);
      variables = parsed.env;
      for (const problem of parsed.problems) problems.push({ file: shown, line: problem.line, col: problem.col, path: "", message: problem.message });
      return variables;
    },
  };
}

function readDotEnvFile(path: string): string | undefined {
  try {
    return readBoundedSync(path, MAX_ENV_FILE_BYTES);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

function placedIssue(problem: PlacedProblem, file: string, source: YamlSource, data: unknown): ManifestIssue {
  let position = { line: 1, col: 1 };
  try {
    position = locateDollar(source, problem.path, String(valueAt(data, problem.path)), problem.offset);
  } catch {
    // the problem is worth more than its position
  }
  return { file, ...position, path: problem.path.map(String).join("."), message: problem.message };
}

function valueAt(data: unknown, path: IssuePath): unknown {
  let value = data;
  for (const segment of path) value = typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[segment] : undefined;
  return value;
}

/** The .env beside the manifest may be a service's env_file too: its problems are told once. */
function withoutRepeats(issues: readonly ManifestIssue[]): ManifestIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = issue.file === "" || issue.line === undefined ? null : `${issue.file}:${issue.line}:${issue.col ?? 0}:${issue.message}`;
    if (key === null) return true;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const TELEGRAM_API = "https://api.telegram.org";

function resolveAlerts(rules: readonly ValidatedAlertRule[], ctx: ResolveContext): AlertRule[] {
  return rules.map((rule, index) => {
    let target: AlertTarget;
    if (rule.command !== undefined) {
      const shell = rule.shell ?? false;
      const command = commandArgv(rule.command, shell);
      if (!command.ok) ctx.issues.push({ path: ["alerts", index, "command"], anchor: "value", message: command.message });
      target = { kind: "command", argv: command.ok ? command.argv : [], shell, display: command.ok ? command.display : "", cwd: ctx.dir };
    } else if (rule.telegram !== undefined) {
      const { token_env, chat_id_env, api_url } = rule.telegram;
      target = { kind: "telegram", tokenEnv: token_env, chatIdEnv: chat_id_env, apiUrl: (api_url ?? TELEGRAM_API).replace(/\/+$/, "") };
    } else {
      const format = rule.format === "slack" ? "slack" : "json";
      target = { kind: "webhook", url: rule.webhook ?? null, urlEnv: rule.url_env ?? null, format };
    }
    const isCommand = target.kind === "command";
    return {
      on: [...new Set(rule.on)],
      services: rule.services === undefined ? null : [...new Set(rule.services)],
      target,
      cooldownMs: rule.cooldown,
      timeoutMs: rule.timeout ?? (isCommand ? 10_000 : 5_000),
      retries: rule.retries ?? (isCommand ? 0 : 3),
      retryBackoffMs: rule.retry_backoff,
    };
  });
}

/** `alerts[].services` must name services of this manifest: a typo would silence a rule for good. */
function checkAlertServices(rawAlerts: unknown, names: readonly string[], suggestions: NameSuggestions): PendingIssue[] {
  if (!Array.isArray(rawAlerts)) return [];
  const known = new Set(names);
  return rawAlerts.flatMap((rule: unknown, index) => {
    const listed = field(rule, "services");
    if (!Array.isArray(listed)) return [];
    return listed.flatMap((name: unknown, at): PendingIssue[] =>
      typeof name !== "string" || known.has(name)
        ? []
        : [{ path: ["alerts", index, "services", at], anchor: "value", message: `unknown service "${name}"${suggestions.didYouMean(name)}` }],
    );
  });
}

/** One line per service that asks for the notify protocol where datagram sockets cannot be had. */
function checkNotify(services: readonly ServiceConfig[], unavailable: () => string | null): PendingIssue[] {
  const asking = services.filter((s) => s.heartbeat?.via === "notify");
  const why = asking.length > 0 ? unavailable() : null;
  if (why === null) return [];
  return asking.map((s) => ({ path: ["services", s.name, "heartbeat", "via"], anchor: "value", message: `heartbeat.via: notify is unavailable: ${why}` }));
}

/**
 * start-first taken from defaults.restart by a service that has no way to say it is ready (a service that
 * asks for it itself is told so at its own key, by the schema).
 */
function checkStartFirstByDefault(services: readonly ServiceConfig[], rawServices: unknown): PendingIssue[] {
  return services
    .filter((s) => s.restart.mode === "start-first" && s.heartbeat === null && s.probes.readiness === null)
    .filter((s) => field(field(field(rawServices, s.name), "restart"), "mode") === undefined)
    .map((s) => ({
      path: ["defaults", "restart", "mode"],
      anchor: "value",
      message: `service "${s.name}" restarts start-first by default but has no way to say it is ready: give it a heartbeat or a readiness probe, or restart.mode: stop-first`,
    }));
}

type Guard = <T>(path: IssuePath, fallback: T, step: () => T) => T;

/** Services are resolved one by one so that a bad one does not hide the problems of the others. */
function resolveServices(names: readonly string[], input: unknown, ctx: ResolveContext, guard: Guard, pings: PingConfig[]): ServiceConfig[] {
  const defaults = defaultsSchema.safeParse(field(input, "defaults") ?? {});
  const effective = effectiveDefaults(defaults.success ? defaults.data : undefined);
  const rawServices = field(input, "services");
  return names.flatMap((name) =>
    guard(["services", name], [], () => {
      const raw = field(rawServices, name);
      const service = serviceSchema.safeParse(raw);
      const ping = service.success ? pingOf(service.data, name) : null;
      // a ping check runs nothing: it lives apart from the services
      if (ping !== null) {
        pings.push(ping);
        return [];
      }
      if (service.success) return [resolveService(name, service.data, effective, ctx)];
      checkRejectedService(name, raw, ctx);
      return [];
    }),
  );
}

/** In document order; then those only merge keys (<<: *base) bring. */
function serviceNames(source: YamlSource, rawServices: unknown): string[] {
  const inDocument = keysInOrder(source, ["services"]);
  const raw = typeof rawServices === "object" && rawServices !== null ? Object.keys(rawServices) : [];
  const rawSet = new Set(raw);
  const documentSet = new Set(inDocument);
  return [...new Set(inDocument.filter((name) => rawSet.has(name))), ...raw.filter((name) => !documentSet.has(name))];
}

/** push(...items) passes every item as an argument, and overflows the stack beyond about 100,000 */
function append<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

function toManifestIssue(issue: PendingIssue, file: string, source: YamlSource): ManifestIssue {
  let position = { line: 1, col: 1 };
  try {
    position = locate(source, issue.path, issue.anchor);
  } catch {
    // the problem is worth more than its position
  }
  const { line, col } = position;
  return { file, line, col, path: issue.path.map(String).join("."), message: issue.message };
}
