import type { DependencyCondition } from "../manifest/types.js";

export interface DependencyNode {
  readonly name: string;
  readonly dependsOn: Readonly<Record<string, DependencyCondition>>;
}

/**
 * Services in an order where each comes after everything it depends on; ties keep declaration order.
 * The manifest loader has already rejected cycles and unknown targets; meeting one here is a bug.
 */
export function startOrder(nodes: readonly DependencyNode[]): string[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const declared = new Map(nodes.map((n, i) => [n.name, i]));
  // an unknown name sorts first so that it reaches the check below
  const byDeclaration = (a: string, b: string): number => (declared.get(a) ?? -1) - (declared.get(b) ?? -1);
  const done = new Set<string>();
  const visiting = new Set<string>();
  const order: string[] = [];
  const visit = (name: string): void => {
    if (done.has(name)) return;
    if (visiting.has(name)) throw new Error(`bug: dependency cycle through ${name} reached start order`);
    const node = byName.get(name);
    if (!node) throw new Error(`bug: unknown dependency ${name} reached start order`);
    visiting.add(name);
    for (const dep of Object.keys(node.dependsOn).sort(byDeclaration)) visit(dep);
    visiting.delete(name);
    done.add(name);
    order.push(name);
  };
  for (const n of nodes) visit(n.name);
  return order;
}

/** Services that depend on `name`, directly or not, in stop order (dependants before what they use). */
export function dependantsOf(nodes: readonly DependencyNode[], name: string): string[] {
  const found = new Set<string>();
  let frontier = [name];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const n of nodes) {
      if (found.has(n.name)) continue;
      if (frontier.some((f) => f in n.dependsOn)) {
        found.add(n.name);
        next.push(n.name);
      }
    }
    frontier = next;
  }
  return startOrder(nodes).filter((n) => found.has(n)).reverse();
}
