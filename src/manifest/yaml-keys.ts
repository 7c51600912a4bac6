// The document's keys, checked in one pass: keys that repeat within a mapping, and __proto__.
import { isMap, isPair, isScalar, isSeq, type Document } from "yaml";

export interface KeyProblem {
  readonly offset: number;
  readonly message: string;
}

/**
 * Duplicates as the parser would have found them (scalars of equal value). `__proto__` is refused
 * wherever it is: the validation drops such a key from a mapping without a word, so that a service
 * or an environment variable of that name would vanish.
 */
export function keyProblems(doc: Document.Parsed): KeyProblem[] {
  const found: KeyProblem[] = [];
  // a stack of its own: the document may nest deeper than the call stack reaches
  const pending: unknown[] = [doc.contents];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const offset = pair.key.range?.[0] ?? 0;
          if (seen.has(pair.key.value)) found.push({ offset, message: "Map keys must be unique" });
          else if (pair.key.value === "__proto__") found.push({ offset, message: 'the key "__proto__" is reserved: it cannot name a service, a variable or anything else' });
          seen.add(pair.key.value);
        }
        pending.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) pending.push(isPair(item) ? item.value : item);
    }
  }
  return found;
}
