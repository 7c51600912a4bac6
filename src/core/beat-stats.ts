// Figures of a run of beats: the gaps between them, their mean and 95th percentile, and how many beats
// came late (more than the heartbeat interval after the one before: the service was degraded by then).
// A gap across the spawn of a new child is no interval of either child's beats and is left out.

export interface BeatStats {
  readonly beats: number;
  /** between consecutive beats of the window; null with fewer than two beats */
  readonly mean_interval_ms: number | null;
  /** nearest rank */
  readonly p95_interval_ms: number | null;
  readonly max_interval_ms: number | null;
  /** beats that came more than interval_ms after the one before; null without a heartbeat interval */
  readonly late: number | null;
}

/** `atMs`: monotonic times, oldest first; `childStarts`: when new children were spawned, oldest first. */
export function beatStats(atMs: readonly number[], intervalMs: number | null, childStarts: readonly number[] = []): BeatStats {
  const gaps: number[] = [];
  let next = 0;
  for (let i = 1; i < atMs.length; i++) {
    const from = atMs[i - 1]!;
    const to = atMs[i]!;
    while (next < childStarts.length && childStarts[next]! <= from) next++;
    if (next < childStarts.length && childStarts[next]! <= to) continue;
    gaps.push(to - from);
  }
  if (gaps.length === 0) return { beats: atMs.length, mean_interval_ms: null, p95_interval_ms: null, max_interval_ms: null, late: intervalMs === null ? null : 0 };
  const sorted = [...gaps].sort((a, b) => a - b);
  const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
  return {
    beats: atMs.length,
    mean_interval_ms: Math.round(mean),
    p95_interval_ms: percentile(sorted, 0.95),
    max_interval_ms: sorted[sorted.length - 1]!,
    late: intervalMs === null ? null : gaps.filter((gap) => gap > intervalMs).length,
  };
}

/** the nearest-rank percentile of sorted values */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}
