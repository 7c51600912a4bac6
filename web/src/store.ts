// What the page knows of the stack: the last snapshot with every update applied, the resource series
// it has seen (seeded from /api/status?history=1), the timeline, and the last reason of each fatal.
import type { EventDoc, LogFrame, LogLine, ServiceDoc, ServiceLayout, Snapshot, SupervisorDoc, Update } from "./types.js";

/** points kept per instance: 60 samples of 2 s, as the supervisor keeps */
const SERIES_POINTS = 60;
const TIMELINE_EVENTS = 500;
const LOG_LINES = 2_000;

export interface Series {
  t: number[];
  cpu: (number | null)[];
  mem: (number | null)[];
}

export class Store {
  services = new Map<string, ServiceDoc>();
  /** instance names in the supervisor's order */
  order: string[] = [];
  layout = new Map<string, ServiceLayout>();
  supervisor: SupervisorDoc | null = null;
  actions: "token" | "disabled" = "disabled";
  events: EventDoc[] = [];
  series = new Map<string, Series>();
  /** why an instance went fatal or could not start, from the events */
  reasons = new Map<string, string>();
  /** the supervisor's clock minus the page's */
  skewMs = 0;
  log: { instance: string | null; lines: LogLine[]; dropped: number } = { instance: null, lines: [], dropped: 0 };

  now(): number {
    return Date.now() + this.skewMs;
  }

  snapshot(s: Snapshot): void {
    this.skewMs = s.now - Date.now();
    this.actions = s.actions;
    this.layout = new Map(s.layout.map((l) => [l.name, l]));
    this.supervisor = s.supervisor;
    const before = this.services;
    this.services = new Map();
    this.order = [];
    for (const doc of s.services) {
      this.services.set(doc.name, doc);
      this.order.push(doc.name);
    }
    for (const name of before.keys()) if (!this.services.has(name)) this.series.delete(name);
    if (!s.append) this.events = [];
    this.addEvents(s.events);
    this.sample(s.services, s.now);
  }

  update(u: Update): void {
    this.skewMs = u.now - Date.now();
    if (u.supervisor !== null) this.supervisor = u.supervisor;
    for (const doc of u.services) {
      if (!this.services.has(doc.name)) this.order.push(doc.name);
      this.services.set(doc.name, doc);
    }
    this.addEvents(u.events);
    this.sample(u.services, u.now);
  }

  /** the figures of a full document as the newest point of each series (at most one per second) */
  private sample(docs: readonly ServiceDoc[], nowMs: number): void {
    const t = nowMs / 1000;
    for (const doc of docs) {
      if (doc.cpu_percent === null && doc.memory_bytes === null) continue;
      const series = this.seriesOf(doc.name);
      const last = series.t[series.t.length - 1];
      if (last !== undefined && t - last < 1) continue;
      push(series, t, doc.cpu_percent, doc.memory_bytes);
    }
  }

  /** the history the supervisor kept, under what the page gathered itself */
  seed(name: string, history: ServiceDoc["history"]): void {
    if (!history || history.length === 0) return;
    const own = this.series.get(name);
    const seeded: Series = { t: [], cpu: [], mem: [] };
    for (const p of history) push(seeded, Date.parse(p.at) / 1000, p.cpu_percent, p.memory_bytes);
    const from = seeded.t[seeded.t.length - 1] ?? 0;
    if (own) own.t.forEach((t, i) => t > from && push(seeded, t, own.cpu[i] ?? null, own.mem[i] ?? null));
    this.series.set(name, seeded);
  }

  seriesOf(name: string): Series {
    let series = this.series.get(name);
    if (!series) {
      series = { t: [], cpu: [], mem: [] };
      this.series.set(name, series);
    }
    return series;
  }

  private addEvents(events: readonly EventDoc[]): void {
    for (const e of events) {
      const who = e.instance ?? e.service;
      if (who && (e.kind === "fatal" || e.kind === "spawn-failed" || e.kind === "start-abandoned")) this.reasons.set(who, e.message);
      if (who && e.kind === "spawned") this.reasons.delete(who);
      if (e.level === "debug") continue;
      this.events.push(e);
    }
    if (this.events.length > TIMELINE_EVENTS) this.events.splice(0, this.events.length - TIMELINE_EVENTS);
  }

  /** the journal's last events, read after the snapshot: they come before what the page has seen since */
  journal(events: readonly EventDoc[]): void {
    const since = this.events;
    this.events = [];
    this.addEvents(events);
    const last = this.events[this.events.length - 1]?.at ?? "";
    this.addEvents(since.filter((e) => e.at > last));
  }

  logFrame(frame: LogFrame): void {
    if (frame.reset || frame.instance !== this.log.instance) this.log = { instance: frame.instance, lines: [], dropped: 0 };
    this.log.lines.push(...frame.lines);
    this.log.dropped += frame.dropped ?? 0;
    if (this.log.lines.length > LOG_LINES) this.log.lines.splice(0, this.log.lines.length - LOG_LINES);
  }
}

function push(series: Series, t: number, cpu: number | null, mem: number | null): void {
  series.t.push(t);
  series.cpu.push(cpu);
  series.mem.push(mem);
  if (series.t.length > SERIES_POINTS) {
    series.t.shift();
    series.cpu.shift();
    series.mem.shift();
  }
}
