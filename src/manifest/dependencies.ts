// Cross-checks of depends_on over the raw input, so they are reported even when other parts of the
// manifest are invalid: unknown targets, self-dependencies, duplicates and cycles.
import { didYouMean } from "./suggest.js";
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

export function checkDependencies(edges: readonly DependencyEdge[], names: readonly string[]): PendingIssue[] {
  const known = new Set(names);
  const issues: PendingIssue[] = [];
  const graph = new Map<string, DependencyEdge[]>();
  const seen = new Set<string>();
  for (const edge of edges) {
    const problem =
      edge.to === edge.from ? "a service cannot depend on itself"
      : !known.has(edge.to) ? `unknown service "${edge.to}"${didYouMean(edge.to, names)}`
      : seen.has(`${edge.from}\0${edge.to}`) ? `"${edge.to}" is listed twice`
      : undefined;
    seen.add(`${edge.from}\0${edge.to}`);
    if (problem !== undefined) {
      issues.push({ path: edge.path, anchor: edge.anchor, message: problem });
    } else {
      graph.set(edge.from, [...(graph.get(edge.from) ?? []), edge]);
    }
  }
  return [...issues, ...findCycles(graph, names)];
}

function findCycles(graph: ReadonlyMap<string, readonly DependencyEdge[]>, names: readonly string[]): PendingIssue[] {
  const issues: PendingIssue[] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const reported = new Set<string>();

  const visit = (name: string): void => {
    state.set(name, "visiting");
    stack.push(name);
    for (const edge of graph.get(name) ?? []) {
      const seen = state.get(edge.to);
      if (seen === undefined) visit(edge.to);
      else if (seen === "visiting") {
        const cycle = stack.slice(stack.indexOf(edge.to));
        const key = canonical(cycle);
        if (!reported.has(key)) {
          reported.add(key);
          const first = (graph.get(cycle[0] ?? "") ?? []).find((e) => e.to === (cycle[1] ?? edge.to)) ?? edge;
          issues.push({ path: first.path, anchor: first.anchor, message: `dependency cycle: ${[...cycle, edge.to].join(" -> ")}` });
        }
      }
    }
    stack.pop();
    state.set(name, "done");
  };

  for (const name of names) if (!state.has(name)) visit(name);
  return issues;
}

/** The same cycle found from another member is reported once. */
function canonical(cycle: readonly string[]): string {
  const smallest = cycle.indexOf([...cycle].sort()[0] ?? "");
  return [...cycle.slice(smallest), ...cycle.slice(0, smallest)].join("\0");
}
