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
  // depth first with a stack of its own: a chain of 20,000 services overflowed the call stack
  const path: { name: string; deps: string[]; next: number }[] = [];
  const enter = (name: string): void => {
    if (done.has(name)) return;
    if (visiting.has(name)) throw new Error(`bug: dependency cycle through ${name} reached start order`);
    const node = byName.get(name);
    if (!node) throw new Error(`bug: unknown dependency ${name} reached start order`);
    visiting.add(name);
    path.push({ name, deps: Object.keys(node.dependsOn).sort(byDeclaration), next: 0 });
  };
  for (const n of nodes) {
    enter(n.name);
    for (let top = path.at(-1); top !== undefined; top = path.at(-1)) {
      const dep = top.deps[top.next++];
      if (dep !== undefined) {
        enter(dep);
        continue;
      }
      path.pop();
      visiting.delete(top.name);
      done.add(top.name);
      order.push(top.name);
    }
  }
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
