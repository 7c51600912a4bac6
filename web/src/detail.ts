// The selected instance: its state and why, health, heartbeat against its deadline, figures, probes,
// CPU and memory charts, and the buttons that act on it.
import type uPlot from "uplot";
import { chart, setChart } from "./charts.js";
import { bytes, clockTime, duration, percent } from "./format.js";
import { beatView, createBeatBar, drawBeatBar } from "./heartbeat.js";
import { stateText } from "./list.js";
import { badge, HEALTH_SHAPES, STATE_SHAPES } from "./marks.js";
import type { Store } from "./store.js";
import type { ProbeDoc, ServiceDoc } from "./types.js";

export type Action = "start" | "stop" | "restart" | "scale";

export class Detail {
  name: string | null = null;
  readonly #title: HTMLElement;
  readonly #state: HTMLElement;
  readonly #health: HTMLElement;
  readonly #why: HTMLElement;
  readonly #beat: HTMLElement;
  readonly #beatText: HTMLElement;
  readonly #facts: HTMLElement;
  readonly #probes: HTMLElement;
  readonly #cpu: uPlot;
  readonly #mem: uPlot;
  readonly #scaleRow: HTMLElement;
  readonly #replicas: HTMLInputElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly store: Store,
    onAction: (action: Action, name: string, replicas?: number) => void,
  ) {
    const q = <T extends HTMLElement>(sel: string): T => root.querySelector<T>(sel) as T;
    this.#title = q("#detail-name");
    this.#state = q("#detail-state");
    this.#health = q("#detail-health");
    this.#why = q("#detail-why");
    this.#facts = q("#detail-facts");
    this.#probes = q("#detail-probes");
    this.#beat = createBeatBar();
    q("#detail-beat").append(this.#beat);
    this.#beatText = q("#detail-beat-text");
    const width = Math.max(240, q("#detail-charts").clientWidth - 8);
    this.#cpu = chart(q("#chart-cpu"), "cpu", width);
    this.#mem = chart(q("#chart-mem"), "mem", width);
    this.#scaleRow = q("#scale-row");
    this.#replicas = q<HTMLInputElement>("#replicas");
    for (const button of root.querySelectorAll<HTMLButtonElement>("button[data-action]")) {
      button.addEventListener("click", () => {
        const action = button.dataset["action"] as Action;
        const doc = this.name === null ? undefined : this.store.services.get(this.name);
        if (!doc) return;
        // a replicated service is scaled as a whole; the other buttons act on this instance
        if (action === "scale") onAction(action, doc.service, Number(this.#replicas.value));
        else onAction(action, doc.name);
      });
    }
  }

  show(name: string): void {
    this.name = name;
    this.root.hidden = false;
    const layout = this.store.layout.get(this.store.services.get(name)?.service ?? "");
    if (layout) this.#replicas.value = String(layout.replicas);
    this.draw();
  }

  draw(): void {
    const doc = this.name === null ? undefined : this.store.services.get(this.name);
    if (!doc) {
      this.#title.textContent = this.name === null ? "select a service" : `${this.name} (gone)`;
      return;
    }
    const now = this.store.now();
    const layout = this.store.layout.get(doc.service);
    this.#title.textContent = doc.name;
    badge(this.#state, "st", doc.state, STATE_SHAPES[doc.state] ?? "?", stateText(doc, now));
    badge(this.#health, "hl", doc.health, HEALTH_SHAPES[doc.health] ?? "?");
    this.#why.textContent = why(doc, this.store.reasons.get(doc.name));
    const beat = beatView(doc, layout, now);
    drawBeatBar(this.#beat, beat, layout?.heartbeat?.misses);
    this.#beatText.textContent = beat.text;
    const exit = doc.last_exit;
    facts(this.#facts, [
      ["pid", doc.pid === null ? "–" : String(doc.pid)],
      ["uptime", doc.state === "running" && doc.started_at ? duration(now - Date.parse(doc.started_at)) : "–"],
      ["restarts", String(doc.restarts)],
      ["last exit", exit ? `${exit.signal ?? `code ${exit.code}`}, reason ${exit.reason}, at ${clockTime(exit.at)}${exit.error ? `: ${exit.error}` : ""}` : "–"],
      ["CPU", percent(doc.cpu_percent)],
      ["memory", bytes(doc.memory_bytes)],
      ["processes", doc.processes === null ? "–" : String(doc.processes)],
      ["beats", String(doc.beats)],
      ["says", doc.status_text ?? "–"],
      ["depends on", layout && Object.keys(layout.depends_on).length > 0 ? Object.entries(layout.depends_on).map(([d, c]) => `${d} (${c})`).join(", ") : "–"],
      ["replicas", layout ? String(layout.replicas) : "–"],
      ...(layout?.schedule ? [["schedule", `${layout.schedule}${doc.schedule?.next_run_at ? `, next ${clockTime(doc.schedule.next_run_at)}` : ""}`] as [string, string]] : []),
    ]);
    this.#probes.replaceChildren();
    for (const [kind, probe] of Object.entries(doc.probes ?? {}) as [string, ProbeDoc | null][]) {
      if (!probe) continue;
      const li = document.createElement("li");
      const mark = document.createElement("span");
      badge(mark, "pr", probe.status, probe.status === "passing" ? "✓" : probe.status === "failing" ? "✖" : "·");
      li.append(`${kind}: `, mark, ` ${probe.consecutive_failures} failures in a row, ${probe.checks} checks${probe.last_detail ? `; ${probe.last_detail}` : ""}`);
      this.#probes.append(li);
    }
    if (this.#probes.childElementCount === 0) this.#probes.textContent = "no probes";
    this.#scaleRow.hidden = !layout;
    const series = this.store.series.get(doc.name);
    setChart(this.#cpu, series, "cpu");
    setChart(this.#mem, series, "mem");
  }
}

function why(doc: ServiceDoc, reason: string | undefined): string {
  if (doc.state === "fatal") return reason ?? "crash loop: not restarted until started by hand";
  if (doc.state === "backoff") return `restarting; last exit: ${doc.last_exit?.reason ?? "?"}${reason ? ` (${reason})` : ""}`;
  if (doc.state === "starting" && doc.waiting_for.length > 0) return `waiting for ${doc.waiting_for.join(", ")}`;
  if (doc.rollover_error) return doc.rollover_error;
  if (doc.disabled && doc.state === "stopped") return "disabled: started only by hand";
  return "";
}

function facts(dl: HTMLElement, rows: readonly (readonly [string, string])[]): void {
  const items = rows.flatMap(([k, v]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    return [dt, dd];
  });
  dl.replaceChildren(...items);
}
