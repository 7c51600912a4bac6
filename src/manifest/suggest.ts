// "Did you mean" for unknown keys, enum values and service names.

/**
 * Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("restrat"). Past
 * `limit` the exact figure does not matter: it stops as soon as the distance must exceed it.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const width = b.length + 1;
  // rows i-2 (for transpositions), i-1 and i, reused from call to call
  let before = rowOf(0, width);
  let previous = rowOf(1, width);
  let current = rowOf(2, width);
  for (let j = 0; j < width; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowBest = i;
    for (let j = 1; j < width; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) {
        best = Math.min(best, (before[j - 2] ?? 0) + 1);
      }
      current[j] = best;
      rowBest = Math.min(rowBest, best);
    }
    // every later row is at least this row's best
    if (rowBest > limit) return limit + 1;
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length] ?? 0;
}

const rows: Uint32Array[] = [new Uint32Array(64), new Uint32Array(64), new Uint32Array(64)];

function rowOf(which: 0 | 1 | 2, width: number): Uint32Array {
  if ((rows[which]?.length ?? 0) < width) rows[which] = new Uint32Array(width);
  return rows[which] as Uint32Array;
}

const limitFor = (input: string): number => Math.max(1, Math.floor(input.length / 3));

/** The closest candidate (case-insensitively), or undefined when none is close enough. */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const wanted = input.toLowerCase();
  const limit = limitFor(wanted);
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase(), best?.distance ?? limit);
    if (distance <= limit && (best === undefined || distance < best.distance)) {
      best = { candidate, distance };
    }
  }
  return best?.candidate;
}

/** `, did you mean "x"?` or the empty string, to append to a message. */
export function didYouMean(input: unknown, candidates: Iterable<string>): string {
  if (typeof input !== "string") return "";
  return phrase(input, suggest(input, candidates));
}

const phrase = (input: string, match: string | undefined): string =>
  match === undefined || match === input ? "" : `, did you mean "${match}"?`;

/**
 * "Did you mean" among many names (the services), for many unknown ones: only names of a length
 * within reach are compared, and the comparisons of one manifest are bounded in all, so that
 * thousands of typos among thousands of names cost a fixed amount of work at most; past it, the
 * problems are still reported, without a suggestion.
 */
export class NameSuggestions {
  private readonly byLength = new Map<number, { name: string; lower: string; index: number }[]>();
  private cellsLeft: number;

  constructor(names: Iterable<string>, cellBudget = 5_000_000) {
    let index = 0;
    for (const name of names) {
      const bucket = this.byLength.get(name.length) ?? [];
      bucket.push({ name, lower: name.toLowerCase(), index: index++ });
      this.byLength.set(name.length, bucket);
    }
    this.cellsLeft = cellBudget;
  }

  didYouMean(input: string): string {
    const wanted = input.toLowerCase();
    const limit = limitFor(wanted);
    // of two names as close, the one declared first, as suggest() does
    let best: { name: string; distance: number; index: number } | undefined;
    for (const [length, bucket] of this.byLength) {
      if (Math.abs(length - wanted.length) > limit) continue;
      for (const { name, lower, index } of bucket) {
        const cells = wanted.length * length;
        if (cells > this.cellsLeft) return phrase(input, best?.name);
        this.cellsLeft -= cells;
        const distance = editDistance(wanted, lower, best?.distance ?? limit);
        const closer = best === undefined ? distance <= limit : distance < best.distance || (distance === best.distance && index < best.index);
        if (closer) best = { name, distance, index };
      }
    }
    return phrase(input, best?.name);
  }
}
