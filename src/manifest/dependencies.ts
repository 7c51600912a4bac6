// Cross-checks of depends_on over the raw input, so they are reported even when other parts of the
// manifest are invalid: unknown targets, self-dependencies, duplicates and cycles.
import type { NameSuggestions } from "./suggest.js";
import type { Anchor, IssuePath } from "./yaml-source.js";
import type { PendingIssue } from "./zod-issues.js";

export interface DependencyEdge {
  readonly from: string;
  readonly to: string;
  /** where the entry is written: a list item (value) or a mapping key */
  readonly path: IssuePath;
  readonly anchor: Anchor;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Edges of every depends_on that has a usable shape; other shapes are the schema's to report. */
export function dependencyEdges(services: unknown): DependencyEdge[] {
  if (!isRecord(services)) return [];
  return Object.entries(services).flatMap(([from, service]): DependencyEdge[] => {
    const dependsOn = isRecord(service) ? service["depends_on"] : undefined;
    const base = ["services", from, "depends_on"];
    if (Array.isArray(dependsOn)) {
      return dependsOn.flatMap((to: unknown, index) =>
        typeof to === "string" ? [{ from, to, path: [...base, index], anchor: "value" as const }] : [],
      );
    }
    if (isRecord(dependsOn)) {
      return Object.keys(dependsOn).map((to) => ({ from, to, path: [...base, to], anchor: "key" as const }));
    }
    return [];
  });
}

export function checkDependencies(edges: readonly DependencyEdge[], names: readonly string[], suggestions: NameSuggestions): PendingIssue[] {
  const known = new Set(names);
  const issues: PendingIssue[] = [];
  const graph = new Map<string, DependencyEdge[]>();
  const seen = new Set<string>();
  for (const edge of edges) {
    const pair = `${edge.from}\0${edge.to}`;
    const problem =
      edge.to === edge.from ? "a service cannot depend on itself"
      : !known.has(edge.to) ? `unknown service "${edge.to}"${suggestions.didYouMean(edge.to)}`
      : seen.has(pair) ? `"${edge.to}" is listed twice`
      : undefined;
    seen.add(pair);
    if (problem !== undefined) {
      issues.push({ path: edge.path, anchor: edge.anchor, message: problem });
    } else {
      const out = graph.get(edge.from);
      if (out) out.push(edge);
      else graph.set(edge.from, [edge]);
    }
  }
  for (const cycle of findCycles(graph, names)) issues.push(cycle);
  return issues;
}

interface Frame {
  readonly name: string;
  readonly edges: readonly DependencyEdge[];
  /** the edges before this one are explored; edges[next - 1] leads to the frame above */
  next: number;
}

/**
 * One depth-first walk with its own stack (a chain of 100,000 services would overflow the call
 * stack). Each edge back to a service on the path closes a cycle of its own, so none is reported twice.
 */
function findCycles(graph: ReadonlyMap<string, readonly DependencyEdge[]>, names: readonly string[]): PendingIssue[] {
  const issues: PendingIssue[] = [];
  const done = new Set<string>();
  const onPath = new Map<string, number>();
  const path: Frame[] = [];
  const enter = (name: string): void => {
    onPath.set(name, path.length);
    path.push({ name, edges: graph.get(name) ?? [], next: 0 });
  };
  for (const root of names) {
    if (done.has(root) || onPath.has(root)) continue;
    enter(root);
    for (let top = path.at(-1); top !== undefined; top = path.at(-1)) {
      const edge = top.edges[top.next++];
      if (edge === undefined) {
        path.pop();
        onPath.delete(top.name);
        done.add(top.name);
        continue;
      }
      const start = onPath.get(edge.to);
      if (start !== undefined) issues.push(cycleIssue(path, start, edge));
      else if (!done.has(edge.to)) enter(edge.to);
    }
  }
  return issues;
}

const SHOWN_AT_START = 6;
const SHOWN_AT_END = 3;

/** The cycle path[start..] -> closing.to, named at its first edge; a long one is shortened in the middle. */
function cycleIssue(path: readonly Frame[], start: number, closing: DependencyEdge): PendingIssue {
  const length = path.length - start;
  const name = (offset: number): string => path[start + offset]?.name ?? "";
  const shown =
    length <= SHOWN_AT_START + SHOWN_AT_END + 1
      ? Array.from({ length }, (_, i) => name(i))
      : [
          ...Array.from({ length: SHOWN_AT_START }, (_, i) => name(i)),
          `… ${length - SHOWN_AT_START - SHOWN_AT_END} more`,
          ...Array.from({ length: SHOWN_AT_END }, (_, i) => name(length - SHOWN_AT_END + i)),
        ];
  const first = path[start + 1] === undefined ? closing : (path[start]?.edges[(path[start]?.next ?? 1) - 1] ?? closing);
  return { path: first.path, anchor: first.anchor, message: `dependency cycle: ${[...shown, closing.to].join(" -> ")}` };
}
