// The dashboard: one live stream from the supervisor, drawn at most once a frame; a clock tick a second
// for what ages by itself (countdowns, uptimes, beat ages).
import { act, authHeaders, setToken, takeTokenFromAddress, token } from "./auth.js";
import { Detail, type Action } from "./detail.js";
import { bytes, percent } from "./format.js";
import { drawGraph } from "./graph.js";
import { ServiceList } from "./list.js";
import { LogPane } from "./logs.js";
import { STATES } from "./marks.js";
import { Store } from "./store.js";
import { openStream, type Stream, type StreamState } from "./stream.js";
import { drawTimeline } from "./timeline.js";
import type { EventDoc, LogFrame, ServiceDoc, Snapshot, Update } from "./types.js";

takeTokenFromAddress();

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const store = new Store();
const list = new ServiceList($("list"), store, (name) => selected(name));
const detail = new Detail($("detail"), store, (action, name, replicas) => void perform(action, name, replicas));
const logs = new LogPane($("log-lines"), $("log-status"), store);
let stream: Stream | null = null;
let follow: string | null = null;
let firstRender = false;
const dirty = { list: false, refilter: false, timeline: false, graph: false, logs: false, header: false };
const seeded = new Set<string>();

function schedule(...what: (keyof typeof dirty)[]): void {
  const idle = !Object.values(dirty).some(Boolean);
  for (const w of what) dirty[w] = true;
  if (idle) requestAnimationFrame(render);
}

function render(): void {
  const d = { ...dirty };
  for (const k of Object.keys(dirty) as (keyof typeof dirty)[]) dirty[k] = false;
  if (d.refilter) list.refilter();
  if (d.list || d.refilter) {
    list.draw();
    detail.draw();
    void seedHistory();
  }
  if (d.header) header();
  if (d.timeline) drawTimeline($("timeline"), store, $<HTMLInputElement>("timeline-filter").value);
  if (d.graph) drawGraph($<HTMLElement>("graph") as unknown as SVGSVGElement, store, serviceOf(list.selected), pickService);
  if (d.logs) logs.draw();
  if (!firstRender && store.supervisor !== null) {
    firstRender = true;
    performance.mark("vigil:drawn");
    document.body.dataset["ready"] = "1";
    // navigation start → the list drawn with every instance's data: what the benchmark reads
    requestAnimationFrame(() => performance.mark("vigil:first-render", { detail: { services: store.services.size } }));
  }
}

function serviceOf(name: string | null): string | null {
  return name === null ? null : (store.services.get(name)?.service ?? null);
}

function pickService(service: string): void {
  const name = store.order.find((n) => store.services.get(n)?.service === service);
  if (name !== undefined) list.select(name, true);
}

function selected(name: string): void {
  detail.show(name);
  $("log-title").textContent = `output of ${name}`;
  schedule("graph");
  if (name !== follow) {
    follow = name;
    connect();
  }
}

function connect(): void {
  stream?.close();
  stream = openStream(
    () => `/api/stream${follow === null ? "" : `?follow=${encodeURIComponent(follow)}`}`,
    authHeaders,
    {
      onState: (state, detail) => connection(state, detail),
      onEvent: (e) => {
        if (e.event === "snapshot") {
          if (!firstRender) performance.mark("vigil:snapshot");
          store.snapshot(JSON.parse(e.data) as Snapshot);
          schedule("refilter", "timeline", "graph", "header");
          auth();
        } else if (e.event === "update" || e.event === "status") {
          // status: the whole document as status.json holds it; update: the time, events, and what changed
          const u = e.event === "status" ? ({ now: store.now(), events: [], ...JSON.parse(e.data) } as Update) : (JSON.parse(e.data) as Update);
          const moved = u.services.some((s: ServiceDoc) => store.services.get(s.name)?.state !== s.state);
          store.update(u);
          schedule(list.filterState !== "" && moved ? "refilter" : "list", "header");
          if (u.events.length > 0) schedule("timeline");
          if (moved) schedule("graph");
        } else if (e.event === "journal") {
          store.journal((JSON.parse(e.data) as { events: EventDoc[] }).events);
          schedule("timeline");
        } else if (e.event === "log") {
          store.logFrame(JSON.parse(e.data) as LogFrame);
          schedule("logs");
        }
      },
    },
  );
}

function connection(state: StreamState, why?: string): void {
  const el = $("conn");
  el.className = `conn conn-${state}`;
  el.textContent = state === "live" ? "● live" : state === "connecting" ? "◌ connecting…" : `✖ disconnected${why ? ` (${why})` : ""}; retrying`;
}

function header(): void {
  const sup = store.supervisor;
  if (!sup) return;
  const host = sup.host;
  $("host").textContent = host
    ? `host: CPU ${percent(host.cpu_percent)} of ${host.cores} cores · load ${host.load_avg.map((l) => l.toFixed(2)).join(" ")} · memory ${bytes(host.mem_available_bytes)} free of ${bytes(host.mem_total_bytes)}${host.disk ? ` · disk ${percent(host.disk.used_percent)} used` : ""}`
    : "host: not sampled yet";
  $("supervisor").textContent = `supervisor pid ${sup.pid} · generation ${sup.generation} · ${sup.manifest}${sup.stopping ? " · stopping" : ""}`;
  const counts = new Map<string, number>();
  for (const doc of store.services.values()) counts.set(doc.state, (counts.get(doc.state) ?? 0) + 1);
  $("counts").textContent = STATES.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`).join(" · ");
  const banner = $("config-error");
  banner.hidden = sup.config_error === null;
  $("config-error-text").textContent = sup.config_error ?? "";
  $("problems").textContent = sup.problems.map((p) => `${p.kind}: ${p.message}`).join("; ");
}

/** the page is read-only without a token, and says so */
function auth(): void {
  const disabled = store.actions === "disabled";
  const has = token() !== null;
  const el = $("auth-state");
  el.textContent = disabled ? "read-only: this supervisor takes no actions over HTTP (no http.token_env token)"
    : has ? "token set for this tab" : "read-only: enter the token to act";
  el.className = has && !disabled ? "auth auth-ok" : "auth auth-ro";
  $("token-form").hidden = disabled || has;
  $("forget").hidden = disabled || !has;
  for (const b of document.querySelectorAll<HTMLButtonElement>("button[data-action]")) {
    b.disabled = disabled || !has;
    b.title = b.disabled ? "read-only: no token" : "";
  }
}

async function perform(action: Action, name: string, replicas?: number): Promise<void> {
  const msg = $("action-msg");
  msg.textContent = `${action} ${name}…`;
  const path = `/api/services/${encodeURIComponent(name)}/${action}`;
  const error = await act(path, action === "scale" ? { replicas } : {});
  msg.textContent = error === null ? `${action} ${name}: accepted` : `${action} ${name}: ${error}`;
  msg.className = error === null ? "msg-ok" : "msg-bad";
}

/** the resource history of the rows in view, once each, from the supervisor's last 60 samples */
let seeding = false;
async function seedHistory(): Promise<void> {
  if (seeding) return;
  const want = list.inView().filter((n) => !seeded.has(n)).slice(0, 50);
  if (list.selected !== null && !seeded.has(list.selected) && !want.includes(list.selected)) want.push(list.selected);
  if (want.length === 0) return;
  seeding = true;
  for (const n of want) seeded.add(n);
  try {
    const query = want.map((n) => `service=${encodeURIComponent(n)}`).join("&");
    const res = await fetch(`/api/status?${query}&history=1`, { headers: authHeaders(), cache: "no-store" });
    if (res.ok) {
      const doc = (await res.json()) as { services: ServiceDoc[] };
      for (const s of doc.services) store.seed(s.name, s.history);
      schedule("list");
    } else for (const n of want) seeded.delete(n);
  } catch {
    for (const n of want) seeded.delete(n);
  } finally {
    seeding = false;
  }
}

// controls
const filter = $<HTMLInputElement>("filter");
filter.addEventListener("input", () => {
  list.filterText = filter.value;
  schedule("refilter");
});
const stateFilter = $<HTMLSelectElement>("state-filter");
for (const s of STATES) stateFilter.append(new Option(s, s));
stateFilter.addEventListener("change", () => {
  list.filterState = stateFilter.value;
  schedule("refilter");
});
$<HTMLInputElement>("timeline-filter").addEventListener("input", () => schedule("timeline"));
$<HTMLInputElement>("log-search").addEventListener("input", (e) => {
  logs.search = (e.target as HTMLInputElement).value;
  logs.draw(true);
});
const pause = $<HTMLButtonElement>("log-pause");
pause.addEventListener("click", () => {
  logs.paused = !logs.paused;
  pause.textContent = logs.paused ? "▶ follow" : "❚❚ pause";
  pause.setAttribute("aria-pressed", String(logs.paused));
  logs.draw(!logs.paused);
});
$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("token");
  setToken(input.value.trim() || null);
  input.value = "";
  auth();
  connect();
});
$("forget").addEventListener("click", () => {
  setToken(null);
  auth();
});
document.addEventListener("keydown", (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) {
    if (e.key === "Escape") (e.target as HTMLElement).blur();
    return;
  }
  if (e.key === "/") {
    e.preventDefault();
    filter.focus();
  } else if (e.key === "l") $("list").focus();
});
$("list").addEventListener("scroll", () => {
  clearTimeout(scrollTimer);
  scrollTimer = setTimeout(() => void seedHistory(), 200);
});
let scrollTimer: ReturnType<typeof setTimeout> | undefined;
setInterval(() => {
  if (store.supervisor !== null) schedule("list");
}, 1_000);
auth();
connect();
