// supervisor.yaml -> Manifest. Every problem is collected with its line and column, then thrown
// as one ManifestError; nothing is half-applied.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { checkDependencies, dependencyEdges } from "./dependencies.js";
import { ManifestError, type ManifestIssue } from "./errors.js";
import { checkRejectedService, effectiveDefaults, errorText, resolveService, type ResolveContext } from "./resolve.js";
import { defaultsSchema, manifestSchema, serviceSchema } from "./schema.js";
import type { Manifest, ServiceConfig } from "./types.js";
import { keysInOrder, locate, parseYaml, type YamlSource } from "./yaml-source.js";
import { fromZodIssues, issueMessages, type PendingIssue } from "./zod-issues.js";

export interface ParseOptions {
  /** reads env_file contents; defaults to fs.readFileSync */
  readonly readFile?: (absolutePath: string) => string;
}

export async function loadManifest(file: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ManifestError([{ file, path: "", message: `cannot read manifest: ${errorText(error)}` }], { cause: error });
  }
  return parseManifest(text, file);
}

const DEFAULT_SAMPLE_MS = 2_000;

/** `file` is used as given in messages, and resolved for the paths in the manifest. */
export function parseManifest(text: string, file: string, options: ParseOptions = {}): Manifest {
  const { source, problems } = parseYaml(text);
  if (problems.length > 0) {
    throw new ManifestError(problems.map((problem) => ({ file, line: problem.line, col: problem.col, path: "", message: problem.message })));
  }
  if (source.doc.contents === null) {
    throw new ManifestError([{ file, line: 1, col: 1, path: "", message: "the manifest is empty: it needs version: 1 and services" }]);
  }
  let input: unknown;
  try {
    input = source.doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ManifestError([{ file, line: 1, col: 1, path: "", message: errorText(error) }], { cause: error });
  }

  const parsed = manifestSchema.safeParse(input, { error: issueMessages, reportInput: true });
  const issues: PendingIssue[] = parsed.success ? [] : fromZodIssues(parsed.error.issues, manifestSchema);
  const absolute = resolve(file);
  const ctx: ResolveContext = {
    dir: dirname(absolute),
    displayDir: dirname(file),
    readFile: options.readFile ?? ((path) => readFileSync(path, "utf8")),
    issues,
    located: [],
  };
  const rawServices = field(input, "services");
  const names = serviceNames(source, rawServices);
  issues.push(...checkDependencies(dependencyEdges(rawServices), names));
  const services = resolveServices(names, input, ctx);

  if (issues.length > 0 || ctx.located.length > 0) {
    throw new ManifestError([...issues.map((issue) => toManifestIssue(issue, file, source)), ...ctx.located]);
  }
  if (!parsed.success) throw new Error("bug: the schema rejected a manifest without reporting why");
  const data = parsed.data;
  const stateDir = resolve(ctx.dir, data.state_dir);
  const disk = data.checks?.disk;
  return {
    version: 1,
    file: absolute,
    stateDir,
    services,
    http: data.http ? { host: data.http.listen.host, port: data.http.listen.port, tokenEnv: data.http.token_env ?? null } : null,
    resources: { intervalMs: data.resources?.interval ?? DEFAULT_SAMPLE_MS },
    checks: {
      disk: disk ? { path: disk.path === undefined ? stateDir : resolve(ctx.dir, disk.path), warnPercent: disk.warn, criticalPercent: disk.critical } : null,
    },
  };
}

/** Services are resolved one by one so that a bad one does not hide the problems of the others. */
function resolveServices(names: readonly string[], input: unknown, ctx: ResolveContext): ServiceConfig[] {
  const defaults = defaultsSchema.safeParse(field(input, "defaults") ?? {});
  const effective = effectiveDefaults(defaults.success ? defaults.data : undefined);
  const rawServices = field(input, "services");
  return names.flatMap((name) => {
    const raw = field(rawServices, name);
    const service = serviceSchema.safeParse(raw);
    if (service.success) return [resolveService(name, service.data, effective, ctx)];
    checkRejectedService(name, raw, ctx);
    return [];
  });
}

function serviceNames(source: YamlSource, rawServices: unknown): string[] {
  const inDocument = keysInOrder(source, ["services"]);
  const raw = typeof rawServices === "object" && rawServices !== null ? Object.keys(rawServices) : [];
  return [...inDocument.filter((name) => raw.includes(name)), ...raw.filter((name) => !inDocument.includes(name))];
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

function toManifestIssue(issue: PendingIssue, file: string, source: YamlSource): ManifestIssue {
  const { line, col } = locate(source, issue.path, issue.anchor);
  return { file, line, col, path: issue.path.map(String).join("."), message: issue.message };
}
