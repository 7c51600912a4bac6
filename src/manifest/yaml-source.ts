// The YAML side of the loader: parse with positions, and find the node a key path points at.
import { isAlias, isMap, isNode, isScalar, isSeq, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import { keyProblems } from "./yaml-keys.js";

export type IssuePath = readonly PropertyKey[];

export interface Position {
  readonly line: number;
  readonly col: number;
}

/** "key": the key itself (unknown keys); "value": the value, or the owning key when it is absent. */
export type Anchor = "key" | "value";

/** The pairs of one mapping by key, built when the mapping is first looked into. */
interface MapIndex {
  readonly own: ReadonlyMap<string, Pair<unknown, unknown>>;
  /** the values of its merge keys (<<: *base), in order */
  readonly merged: readonly unknown[];
}

export interface YamlSource {
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly lines: TextLines;
  readonly index: WeakMap<YAMLMap, MapIndex>;
}

/**
 * Line and column of an offset, counted on the text itself: the parser's own LineCounter learns the
 * line starts from its lexer, which skips some after a syntax error, and then names lines past the end.
 */
class TextLines {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) this.starts.push(at + 1);
  }

  position(offset: number): Position {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if ((this.starts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, col: offset - (this.starts[low] ?? 0) + 1 };
  }
}

export interface YamlProblem extends Position {
  readonly message: string;
}

export function parseYaml(text: string): { source: YamlSource; problems: YamlProblem[] } {
  const lines = new TextLines(text);
  // the parser's own check of duplicate keys compares each key with every earlier key of its mapping,
  // which took seconds at 30,000 services: keyProblems() does it in one pass
  const doc = parseDocument(text, { prettyErrors: false, merge: true, uniqueKeys: false });
  const errors = doc.errors.map((error) => ({ offset: openingQuote(doc, error.message, error.pos[0]) ?? error.pos[0], message: readable(error.message) }));
  const problems = [...errors, ...keyProblems(doc)].map(({ offset, message }) => ({ ...lines.position(offset), message }));
  return { source: { text, doc, lines, index: new WeakMap() }, problems };
}

/**
 * A quote never closed is found by the parser at the end of the file: the place to show is where the
 * string opened, the last quoted scalar that starts before the end was found.
 */
function openingQuote(doc: Document, message: string, at: number): number | undefined {
  if (!message.startsWith("Missing closing")) return undefined;
  let start: number | undefined;
  visit(doc, {
    Scalar(_key, node) {
      const from = node.range?.[0];
      if ((node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") && from !== undefined && from < at && (start === undefined || from > start)) start = from;
    },
  });
  return start;
}

/** The parser's words where they speak of its own API or of running out of stack. */
function readable(message: string): string {
  if (message === "Maximum call stack size exceeded") return "the document nests too deeply here";
  if (message.startsWith("Source contains multiple documents")) return "a manifest is one YAML document; a second one starts here";
  return message;
}

/** The most copies a document's aliases may make; a "billion laughs" makes billions. */
export const MAX_ALIAS_COUNT = 100;

/** The document as plain data, or why it cannot be (aliases that expand too far, nesting too deep). */
export function toData(source: YamlSource): { ok: true; data: unknown } | { ok: false; message: string; cause: unknown; at: Position } {
  try {
    return { ok: true, data: source.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const message =
      text.startsWith("Excessive alias count") ? `the aliases (*name) expand too far: the document may make at most ${MAX_ALIAS_COUNT} copies through them`
      : text === "Maximum call stack size exceeded" ? "the document nests too deeply"
      : text;
    const unresolved = text.startsWith("Unresolved alias") ? unresolvedAlias(source.doc) : undefined;
    return { ok: false, message, cause: error, at: unresolved === undefined ? { line: 1, col: 1 } : source.lines.position(unresolved) };
  }
}

/** where the first alias whose anchor is not set before it is */
function unresolvedAlias(doc: Document): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) !== undefined) return undefined;
      found = node.range?.[0];
      return visit.BREAK;
    },
  });
  return found;
}

function positionOf(source: YamlSource, node: unknown): Position | undefined {
  const offset = isNode(node) ? node.range?.[0] : undefined;
  return offset === undefined ? undefined : source.lines.position(offset);
}

const isEmptyScalar = (node: unknown): boolean =>
  isScalar(node) && node.value === null && node.range != null && node.range[0] === node.range[1];

/** A key as the loader names it: merge keys are symbols to the parser. */
function keyOf(pair: Pair<unknown, unknown>): string {
  const value: unknown = isScalar(pair.key) ? pair.key.value : pair.key;
  return typeof value === "symbol" ? (value.description ?? "") : String(value);
}

function indexOf(source: YamlSource, map: YAMLMap): MapIndex {
  const known = source.index.get(map);
  if (known) return known;
  const own = new Map<string, Pair<unknown, unknown>>();
  const merged: unknown[] = [];
  for (const pair of map.items) {
    const key = keyOf(pair);
    if (key === "<<") merged.push(...(isSeq(pair.value) ? pair.value.items : [pair.value]));
    else if (!own.has(key)) own.set(key, pair);
  }
  const index = { own, merged };
  source.index.set(map, index);
  return index;
}

function findPair(source: YamlSource, map: unknown, segment: PropertyKey, depth = 0): Pair<unknown, unknown> | undefined {
  if (!isMap(map) || depth > 20) return undefined;
  const { own, merged } = indexOf(source, map);
  const found = own.get(String(segment));
  if (found) return found;
  // merge keys (<<: *base) pull pairs from the aliased mappings
  for (const from of merged) {
    const pair = findPair(source, resolveAlias(source, from), segment, depth + 1);
    if (pair) return pair;
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
  return node.items.map(keyOf).filter((key) => key !== "<<");
}

/** The node a key path names (through aliases and merge keys), if the document has it. */
function nodeAt(source: YamlSource, path: IssuePath): unknown {
  let node: unknown = source.doc.contents;
  for (const segment of path) {
    node = resolveAlias(source, node);
    if (isMap(node)) node = findPair(source, node, segment)?.value;
    else if (isSeq(node) && typeof segment === "number") node = node.items[segment];
    else return undefined;
  }
  return resolveAlias(source, node);
}

/**
 * Where the character at `offset` of the string at `path` was written, for a `$`: the n-th `$` of the
 * value is the n-th `$` of its source text (quotes, escapes and folded lines change other characters,
 * not these). When the counts differ (a `$` written as an escape), the node's own position.
 */
export function locateDollar(source: YamlSource, path: IssuePath, value: string, offset: number): Position {
  const node = nodeAt(source, path);
  const range = isScalar(node) ? node.range : undefined;
  if (!range) return locate(source, path, "value");
  const written = source.text.slice(range[0], range[1]);
  const dollarsIn = (text: string): number[] => [...text.matchAll(/\$/g)].map((match) => match.index);
  const inValue = dollarsIn(value);
  const inSource = dollarsIn(written);
  const nth = inValue.indexOf(offset);
  const at = inValue.length === inSource.length && nth >= 0 ? inSource[nth] : undefined;
  return source.lines.position(range[0] + (at ?? 0));
}
