// The figures of a run: RSS growth after the warm-up, status latency, and the summary printed and saved.
import { round, summary, table } from "../../bench/lib.js";

const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * RSS growth of the supervisor after a warm-up (3 minutes, as in the soak bench: the per-service
 * histories of beats and resource samples are full by then; a third of a shorter run): the mean of the
 * first minute after it against the mean of the last minute, in MiB and in MiB per minute between the
 * two windows' midpoints (a fifth of the run for the windows of a run under five minutes); and the
 * least-squares slope over everything after the warm-up, which one noisy window moves less.
 */
export function rssGrowth(samples, seconds) {
  const warmS = Math.min(180, seconds / 3);
  const windowS = Math.min(60, seconds / 5);
  const first = samples.filter((s) => s.t_s >= warmS && s.t_s < warmS + windowS);
  const last = samples.filter((s) => s.t_s > seconds - windowS);
  if (first.length === 0 || last.length === 0) return null;
  const growth = mean(last.map((s) => s.rss_mib)) - mean(first.map((s) => s.rss_mib));
  const minutes = (seconds - windowS / 2 - (warmS + windowS / 2)) / 60;
  return {
    warmup_s: round(warmS, 1),
    window_s: round(windowS, 1),
    first_window_mib: round(mean(first.map((s) => s.rss_mib)), 1),
    last_window_mib: round(mean(last.map((s) => s.rss_mib)), 1),
    growth_mib: round(growth, 2),
    growth_mib_per_min: minutes > 0 ? round(growth / minutes, 3) : null,
    slope_mib_per_min: round(slopePerMinute(samples.filter((s) => s.t_s >= warmS).map((s) => [s.t_s / 60, s.rss_mib])), 3),
  };
}

function slopePerMinute(points) {
  if (points.length < 2) return 0;
  const mx = mean(points.map(([x]) => x));
  const my = mean(points.map(([, y]) => y));
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export function latencyFigures(latencies) {
  const s = summary(latencies);
  return { requests: s.n, median_ms: round(s.median, 1), p99_ms: round(s.p99, 1), max_ms: round(s.max, 1) };
}

export function printSummary(result) {
  const rss = result.rss;
  const growth = rss.growth
    ? `${rss.growth.first_window_mib} -> ${rss.growth.last_window_mib} MiB: ${rss.growth.growth_mib} MiB (${rss.growth.growth_mib_per_min} MiB/min; slope ${rss.growth.slope_mib_per_min} MiB/min)`
    : "n/a (run too short)";
  console.log(
    `\n${table([
      ["chaos figure", "value"],
      ["seed", result.seed],
      ["chaos time", `${result.seconds} s (${result.chaos_minutes} min), ${result.services} services`],
      ["steps", `${result.steps.total} (${result.steps.skipped} found nothing to act on)`],
      ["checks", `${result.checks}: ${result.judged.services} service states judged, ${result.judged.raced} left out (changed between the two reads)`],
      ["expectations met", Object.entries(result.judged.expectationsMet).map(([k, n]) => `${k} ${n}`).join(", ") || "none"],
      ["violations", `${result.violations.length}${result.repeats > 0 ? ` (+${result.repeats} repeats of the same)` : ""}`],
      ["crashes of vigil up", result.crashes.length],
      ["left after vigil down", result.leftovers.length],
      ["status latency", `median ${result.status_latency.median_ms} ms, p99 ${result.status_latency.p99_ms} ms, max ${result.status_latency.max_ms} ms`],
      ["vigil up RSS", `start ${rss.start_mib} MiB, end ${rss.end_mib} MiB, max ${rss.max_mib} MiB`],
      [`RSS growth after ${rss.growth?.warmup_s ?? "-"} s, first vs last ${rss.growth?.window_s ?? "-"} s`, growth],
      ["vigil down", `${result.down.code} in ${result.down.ms} ms, vigil up gone when it returned: ${result.down.up_exited} (half-open connections held: ${Object.entries(result.down.held_open).map(([k, n]) => `${n} on ${k}`).join(", ")})`],
    ])}`,
  );
  console.log(`\nsteps by kind: ${Object.entries(result.steps.by_kind).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  for (const v of result.violations) console.log(`violation [${v.invariant}] at ${v.t_s} s, step ${v.step} (${v.step_kind}): ${v.description}`);
  for (const c of result.crashes) console.log(`crash at ${c.t_s} s: vigil up exited ${c.code ?? c.signal}`);
  for (const l of result.leftovers) console.log(`left behind: pid ${l.pid} ${l.service ?? "-"} ${l.command}`);
}
