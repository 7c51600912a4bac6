// Every instance, one row each, virtualised: only the rows in view exist (a pool reused while scrolling),
// so 1,000 services cost what 30 do. Filter by name and state; arrows, Page Up/Down, Home/End move.
import type uPlot from "uplot";
import { beatView, createBeatBar, drawBeatBar } from "./heartbeat.js";
import { badge, HEALTH_SHAPES, STATE_SHAPES } from "./marks.js";
import { bytes, clockTime, duration, percent } from "./format.js";
import { setSpark, sparkline } from "./charts.js";
import type { Store } from "./store.js";
import type { ServiceDoc } from "./types.js";

export const ROW_PX = 34;

interface Row {
  readonly el: HTMLElement;
  readonly state: HTMLElement;
  readonly name: HTMLElement;
  readonly health: HTMLElement;
  readonly pid: HTMLElement;
  readonly uptime: HTMLElement;
  readonly restarts: HTMLElement;
  readonly beat: HTMLElement;
  readonly spark: uPlot;
  readonly cpu: HTMLElement;
  readonly mem: HTMLElement;
  shown: string | null;
}

/** the state column's words: the countdown of a backoff, the next run of an idle job */
export function stateText(doc: ServiceDoc, nowMs: number): string {
  if (doc.state === "backoff" && doc.next_restart_at) return `backoff ${duration(Date.parse(doc.next_restart_at) - nowMs)}`;
  if (doc.state === "starting" && doc.waiting_for.length > 0) return "waiting";
  if (doc.role === "new") return `${doc.state} (new)`;
  // a job between runs waits for its next tick, unless a person holds it
  if (doc.schedule && !doc.schedule.held && (doc.state === "stopped" || doc.state === "exited")) return "scheduled";
  if (doc.state === "exited" && doc.last_exit) return `exited ${doc.last_exit.signal ?? doc.last_exit.code}`;
  return doc.state;
}

export class ServiceList {
  filterText = "";
  filterState = "";
  /** the instances shown, in order, after the filter */
  visible: string[] = [];
  selected: string | null = null;
  readonly #rows: Row[] = [];
  readonly #inner: HTMLElement;

  constructor(
    private readonly viewport: HTMLElement,
    private readonly store: Store,
    private readonly onSelect: (name: string) => void,
  ) {
    this.#inner = document.createElement("div");
    this.#inner.className = "list-inner";
    viewport.append(this.#inner);
    viewport.addEventListener("scroll", () => this.draw(), { passive: true });
    viewport.addEventListener("keydown", (e) => this.#key(e));
    viewport.addEventListener("click", (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>(".row");
      if (row?.dataset["name"]) this.select(row.dataset["name"]);
    });
  }

  /** applies the filter to the store's instances */
  refilter(): void {
    const text = this.filterText.toLowerCase();
    const state = this.filterState;
    this.visible = this.store.order.filter((name) => {
      const doc = this.store.services.get(name);
      if (!doc) return false;
      if (text !== "" && !name.toLowerCase().includes(text)) return false;
      if (state === "") return true;
      if (state === "problem") return doc.state !== "running" || (doc.health !== "healthy" && doc.health !== "unknown");
      return doc.state === state;
    });
    this.#inner.style.height = `${this.visible.length * ROW_PX}px`;
    this.viewport.setAttribute("aria-rowcount", String(this.visible.length));
  }

  select(name: string, scroll = false): void {
    this.selected = name;
    if (scroll) {
      const i = this.visible.indexOf(name);
      const top = i * ROW_PX;
      if (top < this.viewport.scrollTop) this.viewport.scrollTop = top;
      else if (top + ROW_PX > this.viewport.scrollTop + this.viewport.clientHeight) this.viewport.scrollTop = top + ROW_PX - this.viewport.clientHeight;
    }
    this.viewport.setAttribute("aria-activedescendant", `row-${this.visible.indexOf(name)}`);
    this.draw();
    this.onSelect(name);
  }

  /** draws the rows in view */
  draw(): void {
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW_PX) - 2);
    const count = Math.ceil(this.viewport.clientHeight / ROW_PX) + 4;
    while (this.#rows.length < Math.min(count, this.visible.length)) this.#rows.push(this.#row());
    const now = this.store.now();
    this.#rows.forEach((row, k) => {
      const i = first + k;
      const name = this.visible[i];
      const doc = name === undefined ? undefined : this.store.services.get(name);
      if (!doc || name === undefined) {
        row.el.hidden = true;
        row.shown = null;
        return;
      }
      row.el.hidden = false;
      row.el.id = `row-${i}`;
      row.el.style.transform = `translateY(${i * ROW_PX}px)`;
      row.el.dataset["name"] = name;
      row.el.setAttribute("aria-selected", String(name === this.selected));
      row.el.setAttribute("aria-rowindex", String(i + 1));
      this.#fill(row, doc, now);
    });
  }

  #fill(row: Row, doc: ServiceDoc, now: number): void {
    const layout = this.store.layout.get(doc.service);
    badge(row.state, "st", doc.state, STATE_SHAPES[doc.state] ?? "?", stateText(doc, now));
    row.state.title = this.store.reasons.get(doc.name) ?? "";
    setText(row.name, doc.name);
    badge(row.health, "hl", doc.health, HEALTH_SHAPES[doc.health] ?? "?");
    setText(row.pid, doc.pid === null ? "–" : String(doc.pid));
    setText(row.uptime, doc.state === "running" && doc.started_at ? duration(now - Date.parse(doc.started_at)) : "–");
    setText(row.restarts, `↻${doc.restarts}`);
    const exit = doc.last_exit;
    row.restarts.title = exit ? `${doc.restarts} restarts; last exit: ${exit.signal ?? `code ${exit.code}`}, reason ${exit.reason}, at ${clockTime(exit.at)}` : `${doc.restarts} restarts`;
    drawBeatBar(row.beat, beatView(doc, layout, now), layout?.heartbeat?.misses);
    setText(row.cpu, percent(doc.cpu_percent));
    setText(row.mem, bytes(doc.memory_bytes));
    setSpark(row.spark, this.store.series.get(doc.name));
    row.shown = doc.name;
  }

  /** the instances in view, to fetch their history */
  inView(): string[] {
    return this.#rows.flatMap((r) => (r.shown === null ? [] : [r.shown]));
  }

  #row(): Row {
    const el = document.createElement("div");
    el.className = "row";
    el.setAttribute("role", "row");
    const cell = (cls: string): HTMLElement => {
      const c = document.createElement("span");
      c.className = `cell ${cls}`;
      c.setAttribute("role", "gridcell");
      el.append(c);
      return c;
    };
    // the badges are spans of their own: their class says the state, the cell's its column
    const state = cell("c-state").appendChild(document.createElement("span"));
    const name = cell("c-name");
    const health = cell("c-health").appendChild(document.createElement("span"));
    const pid = cell("c-pid");
    const uptime = cell("c-uptime");
    const restarts = cell("c-restarts");
    const beatCell = cell("c-beat");
    const beat = createBeatBar();
    beatCell.append(beat);
    const sparkCell = cell("c-spark");
    sparkCell.setAttribute("aria-hidden", "true");
    const spark = sparkline(sparkCell, 96, 22);
    const cpu = cell("c-cpu");
    const mem = cell("c-mem");
    this.#inner.append(el);
    return { el, state, name, health, pid, uptime, restarts, beat, spark, cpu, mem, shown: null };
  }

  #key(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_PX) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, j: 1, k: -1 };
    let i = this.selected === null ? -1 : this.visible.indexOf(this.selected);
    if (e.key in moves) i = Math.max(0, Math.min(this.visible.length - 1, i + (moves[e.key] ?? 0)));
    else if (e.key === "Home") i = 0;
    else if (e.key === "End") i = this.visible.length - 1;
    else return;
    e.preventDefault();
    const name = this.visible[i];
    if (name !== undefined) this.select(name, true);
  }
}

function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
