// Where the manifest takes ${VAR}: the strings at PLACES, and nowhere else (keys, durations, names
// of variables and enums stay as written, so that the schema can check them as they are).
// Returns a new tree; the input (which aliases may share between places) is never changed.
import { interpolate, isSecretName, type Lookup } from "./interpolate.js";
import type { IssuePath } from "./yaml-source.js";

/** `*` is any key of a mapping or index of a list; a leaf is a string, or a list of strings (a command). */
export const INTERPOLATED_PLACES: readonly (readonly string[])[] = [
  ["state_dir"],
  ["http", "listen"],
  ["checks", "disk", "path"],
  ["services", "*", "command"],
  ["services", "*", "cwd"],
  ["services", "*", "env", "*"],
  ["services", "*", "env_file"],
  ["services", "*", "probes", "*", "http"],
  ["services", "*", "probes", "*", "tcp"],
  ["services", "*", "probes", "*", "exec"],
  ["alerts", "*", "webhook"],
  ["alerts", "*", "command"],
];

export interface PlacedProblem {
  readonly path: IssuePath;
  /** index of the `$` in the string at path */
  readonly offset: number;
  readonly message: string;
}

export interface InterpolatedManifest {
  readonly data: unknown;
  /** data with the values of secret-named variables, and env values under secret names, as *** */
  readonly masked: unknown;
  readonly problems: readonly PlacedProblem[];
}

export function interpolateManifest(data: unknown, lookup: Lookup): InterpolatedManifest {
  const problems: PlacedProblem[] = [];
  let result = { data, masked: data };
  for (const place of INTERPOLATED_PLACES) result = visit(result.data, result.masked, place, [], lookup, problems);
  return { data: result.data, masked: maskSecretEnv(result.masked), problems };
}

const MASK = "***";

/** services.*.env values whose names say they are secret, written in the file or not */
function maskSecretEnv(data: unknown): unknown {
  const services = isMapping(data) ? data["services"] : undefined;
  if (!isMapping(data) || !isMapping(services)) return data;
  const masked = Object.entries(services).map(([name, service]) => {
    const env = isMapping(service) ? service["env"] : undefined;
    if (!isMapping(service) || !isMapping(env) || !Object.keys(env).some(isSecretName)) return [name, service] as const;
    const hidden = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, isSecretName(key) ? MASK : value]));
    return [name, { ...service, env: hidden }] as const;
  });
  return { ...data, services: Object.fromEntries(masked) };
}

interface Pair {
  readonly data: unknown;
  readonly masked: unknown;
}

function visit(data: unknown, masked: unknown, place: readonly string[], path: PropertyKey[], lookup: Lookup, problems: PlacedProblem[]): Pair {
  if (place.length === 0) return leaf(data, masked, path, lookup, problems);
  const [segment = "", ...rest] = place;
  if (Array.isArray(data)) {
    if (segment !== "*") return { data, masked };
    return rebuildList(data, masked, (item, itemMasked, index) => visit(item, itemMasked, rest, [...path, index], lookup, problems));
  }
  if (!isMapping(data)) return { data, masked };
  const keys = segment === "*" ? Object.keys(data) : Object.hasOwn(data, segment) ? [segment] : [];
  let outData: Record<string, unknown> | null = null;
  let outMasked: Record<string, unknown> | null = null;
  for (const key of keys) {
    const before = data[key];
    const beforeMasked = isMapping(masked) ? masked[key] : before;
    const after = visit(before, beforeMasked, rest, [...path, key], lookup, problems);
    if (after.data !== before || after.masked !== beforeMasked) {
      outData ??= { ...data };
      outMasked ??= { ...(isMapping(masked) ? masked : data) };
      setOwn(outData, key, after.data);
      setOwn(outMasked, key, after.masked);
    }
  }
  return { data: outData ?? data, masked: outMasked ?? masked };
}

function leaf(data: unknown, masked: unknown, path: readonly PropertyKey[], lookup: Lookup, problems: PlacedProblem[]): Pair {
  if (typeof data === "string") {
    const result = interpolate(data, lookup);
    for (const problem of result.problems) problems.push({ path, offset: problem.offset, message: problem.message });
    return result.value === data && result.masked === data ? { data, masked } : { data: result.value, masked: result.masked };
  }
  // a command or exec as a list: each argument on its own
  if (Array.isArray(data)) {
    return rebuildList(data, masked, (item, itemMasked, index) =>
      typeof item === "string" ? leaf(item, itemMasked, [...path, index], lookup, problems) : { data: item, masked: itemMasked },
    );
  }
  return { data, masked };
}

function rebuildList(data: readonly unknown[], masked: unknown, each: (item: unknown, masked: unknown, index: number) => Pair): Pair {
  const maskedList = Array.isArray(masked) ? masked : data;
  const pairs = data.map((item, index) => each(item, maskedList[index], index));
  const changed = pairs.some((pair, index) => pair.data !== data[index] || pair.masked !== maskedList[index]);
  return changed ? { data: pairs.map((pair) => pair.data), masked: pairs.map((pair) => pair.masked) } : { data, masked };
}

/** as the YAML reader sets keys: an env var named __proto__ is a key like any other */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
