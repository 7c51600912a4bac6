// A state or health is never told by colour alone: each has a shape and its word beside the colour
// (Okabe–Ito colours, which the common colour blindnesses tell apart; see style.css).
import type { Health, State } from "./types.js";

export const STATE_SHAPES: Readonly<Record<State, string>> = {
  running: "●",
  starting: "◔",
  stopping: "◒",
  stopped: "■",
  backoff: "↻",
  fatal: "✖",
  exited: "○",
};

export const HEALTH_SHAPES: Readonly<Record<Health, string>> = {
  healthy: "✓",
  degraded: "△",
  critical: "!",
  failed: "✖",
  unknown: "·",
};

export const STATES: readonly State[] = ["running", "starting", "backoff", "fatal", "stopping", "stopped", "exited"];

/** a badge: shape and word, coloured by the class */
export function badge(el: HTMLElement, kind: "st" | "hl" | "pr", value: string, shape: string, text = value): void {
  const cls = `badge ${kind}-${value}`;
  if (el.className !== cls) el.className = cls;
  const label = `${shape} ${text}`;
  if (el.textContent !== label) el.textContent = label;
}
