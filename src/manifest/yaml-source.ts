// The YAML side of the loader: parse with positions, and find the node a key path points at.
import { LineCounter, isAlias, isMap, isNode, isScalar, isSeq, parseDocument, type Document, type Node, type Pair } from "yaml";

export type IssuePath = readonly PropertyKey[];

export interface Position {
  readonly line: number;
  readonly col: number;
}

/** "key": the key itself (unknown keys); "value": the value, or the owning key when it is absent. */
export type Anchor = "key" | "value";

export interface YamlSource {
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

export interface YamlProblem extends Position {
  readonly message: string;
}

export function parseYaml(text: string): { source: YamlSource; problems: YamlProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const problems = doc.errors.map((error) => ({ ...lineCounter.linePos(error.pos[0]), message: readable(error.message) }));
  return { source: { doc, lineCounter }, problems };
}

// the parser reads nested collections recursively, and reports running out of stack as it is
const readable = (message: string): string =>
  message === "Maximum call stack size exceeded" ? "the document nests too deeply here" : message;

function positionOf(source: YamlSource, node: unknown): Position | undefined {
  const offset = isNode(node) ? node.range?.[0] : undefined;
  return offset === undefined ? undefined : source.lineCounter.linePos(offset);
}

const isEmptyScalar = (node: unknown): boolean =>
  isScalar(node) && node.value === null && node.range != null && node.range[0] === node.range[1];

function findPair(source: YamlSource, map: unknown, segment: PropertyKey, depth = 0): Pair<unknown, unknown> | undefined {
  if (!isMap(map) || depth > 20) return undefined;
  const keyOf = (pair: Pair<unknown, unknown>): string => String(isScalar(pair.key) ? pair.key.value : pair.key);
  const own = map.items.find((pair) => keyOf(pair) === String(segment));
  if (own) return own;
  // merge keys (<<: *base) pull pairs from the aliased mappings
  for (const pair of map.items) {
    if (keyOf(pair) !== "<<") continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const merged of sources) {
      const found = findPair(source, resolveAlias(source, merged), segment, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

function resolveAlias(source: YamlSource, node: unknown): unknown {
  return isAlias(node) ? node.resolve(source.doc) : node;
}

/**
 * The line and column for a zod/key path. A path that leaves the document (a missing key) stops at
 * the key that owns the deepest mapping found, so "missing key" points at its parent.
 */
export function locate(source: YamlSource, path: IssuePath, anchor: Anchor): Position {
  let node: unknown = source.doc.contents;
  let owner: Node | undefined;
  for (const [index, segment] of path.entries()) {
    node = resolveAlias(source, node);
    const pair = isMap(node) ? findPair(source, node, segment) : undefined;
    const item = isSeq(node) && typeof segment === "number" ? node.items[segment] : undefined;
    if (pair) {
      if (index === path.length - 1 && anchor === "key") return at(source, pair.key, owner);
      owner = pair.key as Node;
      node = pair.value;
    } else if (item !== undefined) {
      owner = undefined;
      node = item;
    } else {
      return at(source, owner, node);
    }
  }
  return node === null || isEmptyScalar(node) ? at(source, owner, node) : at(source, node, owner);
}

function at(source: YamlSource, first: unknown, fallback: unknown): Position {
  return positionOf(source, first) ?? positionOf(source, fallback) ?? { line: 1, col: 1 };
}

/** Keys of the mapping at `path` in document order (a JS object would put "1" before "api"). */
export function keysInOrder(source: YamlSource, path: IssuePath): string[] {
  let node: unknown = source.doc.contents;
  for (const segment of path) node = findPair(source, resolveAlias(source, node), segment)?.value;
  node = resolveAlias(source, node);
  if (!isMap(node)) return [];
  return node.items.map((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key)).filter((key) => key !== "<<");
}
