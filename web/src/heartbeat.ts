// A heartbeat's age drawn against its deadline (interval × misses), with ticks where it turns degraded
// (1 × interval) and critical (2 × interval).
import type { ServiceDoc, ServiceLayout } from "./types.js";
import { duration } from "./format.js";

export interface BeatView {
  /** 0 … 1 of the deadline */
  readonly fraction: number;
  readonly text: string;
  readonly level: "ok" | "late" | "critical" | "none";
}

export function beatView(doc: ServiceDoc, layout: ServiceLayout | undefined, nowMs: number): BeatView {
  const hb = layout?.heartbeat;
  if (!hb) return { fraction: 0, text: "no heartbeat", level: "none" };
  if (doc.last_beat_at === null || doc.state !== "running") return { fraction: 0, text: doc.state === "running" ? "no beat yet" : "–", level: "none" };
  const age = Math.max(0, nowMs - Date.parse(doc.last_beat_at));
  const deadline = hb.interval_ms * hb.misses;
  const level = age < hb.interval_ms ? "ok" : age < 2 * hb.interval_ms ? "late" : "critical";
  return { fraction: Math.min(1, age / deadline), text: `beat ${duration(age)} ago of ${duration(deadline)}`, level };
}

export function createBeatBar(): HTMLElement {
  const bar = document.createElement("div");
  bar.className = "hb";
  bar.setAttribute("role", "meter");
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  const fill = document.createElement("div");
  fill.className = "hb-fill";
  bar.append(fill);
  return bar;
}

export function drawBeatBar(bar: HTMLElement, view: BeatView, misses: number | undefined): void {
  const fill = bar.firstElementChild as HTMLElement;
  fill.style.width = `${Math.round(view.fraction * 100)}%`;
  fill.className = `hb-fill hb-${view.level}`;
  bar.title = view.text;
  bar.setAttribute("aria-valuenow", String(Math.round(view.fraction * 100)));
  bar.setAttribute("aria-label", view.text);
  // the degraded and critical thresholds, once per bar
  if (misses && bar.childElementCount === 1) {
    for (const at of [1, 2]) {
      if (at >= misses) continue;
      const tick = document.createElement("div");
      tick.className = "hb-tick";
      tick.style.left = `${(at / misses) * 100}%`;
      bar.append(tick);
    }
  }
}
