import { describe, expect, it } from "vitest";
import type { DependencyCondition } from "../../src/manifest/types.js";
import { type DependencyNode, dependantsOf, startOrder } from "../../src/core/start-order.js";

function node(name: string, ...deps: string[]): DependencyNode {
  return { name, dependsOn: Object.fromEntries(deps.map((d): [string, DependencyCondition] => [d, "started"])) };
}

describe("startOrder", () => {
  it("keeps declaration order when nothing depends on anything", () => {
    expect(startOrder([node("c"), node("a"), node("b")])).toEqual(["c", "a", "b"]);
  });

  it("starts a dependency before the service that needs it, even when declared after it", () => {
    expect(startOrder([node("api", "db"), node("db")])).toEqual(["db", "api"]);
  });

  it("follows dependencies through several levels", () => {
    expect(startOrder([node("web", "api"), node("api", "db"), node("db")])).toEqual(["db", "api", "web"]);
  });

  it("moves only what a dependency forces and keeps declaration order for the rest", () => {
    expect(startOrder([node("a", "c"), node("b"), node("c")])).toEqual(["c", "a", "b"]);
  });

  it("starts sibling dependencies in declaration order, not in depends_on order", () => {
    expect(startOrder([node("web", "db", "cache"), node("cache"), node("db")])).toEqual(["cache", "db", "web"]);
  });

  it("lists a shared dependency once", () => {
    expect(startOrder([node("a", "db"), node("b", "db"), node("db")])).toEqual(["db", "a", "b"]);
  });

  it("returns nothing for no services", () => {
    expect(startOrder([])).toEqual([]);
  });

  it("orders a chain of 20,000 services without running out of stack", () => {
    const chain = Array.from({ length: 20_000 }, (_, i) => node(`s${i}`, ...(i + 1 < 20_000 ? [`s${i + 1}`] : [])));
    const order = startOrder(chain);
    expect(order).toHaveLength(20_000);
    expect(order.slice(0, 2)).toEqual(["s19999", "s19998"]);
    expect(order.at(-1)).toBe("s0");
  });

  it("treats a cycle that reached it as a bug", () => {
    expect(() => startOrder([node("a", "b"), node("b", "a")])).toThrow(/bug: dependency cycle/);
  });

  it("treats an unknown dependency that reached it as a bug", () => {
    expect(() => startOrder([node("a", "ghost")])).toThrow(/bug: unknown dependency ghost/);
  });
});

describe("dependantsOf", () => {
  const stack = [node("db"), node("cache"), node("api", "db", "cache"), node("worker", "db"), node("web", "api"), node("docs")];

  it("lists direct and indirect dependants in stop order, the last started first", () => {
    expect(dependantsOf(stack, "db")).toEqual(["web", "worker", "api"]);
  });

  it("lists only what depends on the service, directly or not", () => {
    expect(dependantsOf(stack, "cache")).toEqual(["web", "api"]);
  });

  it("returns nothing for a service nobody depends on", () => {
    expect(dependantsOf(stack, "web")).toEqual([]);
    expect(dependantsOf(stack, "docs")).toEqual([]);
  });

  it("does not include the service itself", () => {
    expect(dependantsOf(stack, "api")).toEqual(["web"]);
  });
});
