// The dependency graph as layered SVG: a service's column is the length of the longest chain of what it
// depends on; each node shows its state by colour, shape and word. A large stack shows the selected
// service's neighbourhood instead of everything.
import { STATE_SHAPES } from "./marks.js";
import type { Store } from "./store.js";
import type { State } from "./types.js";

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 150;
const NODE_H = 28;
const GAP_X = 50;
const GAP_Y = 10;
/** more services than this: only the selected one's neighbours */
const WHOLE_GRAPH_MAX = 60;
/** worst first: a service shows the worst state of its instances */
const SEVERITY: readonly State[] = ["fatal", "backoff", "stopping", "starting", "exited", "stopped", "running"];

export function drawGraph(svg: SVGSVGElement, store: Store, selectedService: string | null, onPick: (service: string) => void): void {
  let names = [...store.layout.keys()];
  if (names.length > WHOLE_GRAPH_MAX) {
    if (selectedService === null) {
      svg.replaceChildren();
      svg.setAttribute("height", "0");
      return;
    }
    const near = new Set([selectedService, ...Object.keys(store.layout.get(selectedService)?.depends_on ?? {})]);
    for (const [name, l] of store.layout) if (selectedService in l.depends_on) near.add(name);
    names = names.filter((n) => near.has(n));
  }
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0; // the manifest refuses cycles; never loop on one
    seen.add(name);
    const deps = Object.keys(store.layout.get(name)?.depends_on ?? {}).filter((d) => names.includes(d));
    const d = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((x) => depthOf(x, seen)));
    depth.set(name, d);
    return d;
  };
  const columns: string[][] = [];
  for (const name of names) (columns[depthOf(name, new Set())] ??= []).push(name);
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((col, c) => col.forEach((name, r) => pos.set(name, { x: c * (NODE_W + GAP_X) + 4, y: r * (NODE_H + GAP_Y) + 4 })));
  const width = columns.length * (NODE_W + GAP_X);
  const height = Math.max(...columns.map((c) => c.length), 1) * (NODE_H + GAP_Y) + 8;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  const nodes: Element[] = [];
  for (const name of names) {
    const from = pos.get(name);
    if (!from) continue;
    for (const dep of Object.keys(store.layout.get(name)?.depends_on ?? {})) {
      const to = pos.get(dep);
      if (!to) continue;
      const path = document.createElementNS(SVG, "path");
      const x1 = to.x + NODE_W;
      const y1 = to.y + NODE_H / 2;
      const x2 = from.x;
      const y2 = from.y + NODE_H / 2;
      path.setAttribute("d", `M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}`);
      path.setAttribute("class", "edge");
      nodes.push(path);
    }
  }
  for (const name of names) {
    const p = pos.get(name);
    if (!p) continue;
    const state = stateOf(store, name);
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", `node st-${state}${name === selectedService ? " node-selected" : ""}`);
    g.setAttribute("transform", `translate(${p.x},${p.y})`);
    g.setAttribute("tabindex", "0");
    g.setAttribute("role", "button");
    g.setAttribute("aria-label", `${name}: ${state}`);
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("width", String(NODE_W));
    rect.setAttribute("height", String(NODE_H));
    rect.setAttribute("rx", "5");
    const text = document.createElementNS(SVG, "text");
    text.setAttribute("x", "8");
    text.setAttribute("y", String(NODE_H / 2 + 4));
    text.textContent = `${STATE_SHAPES[state]} ${name.length > 16 ? `${name.slice(0, 15)}…` : name} · ${state}`;
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${name}: ${state}`;
    g.append(title, rect, text);
    g.addEventListener("click", () => onPick(name));
    g.addEventListener("keydown", (e) => (e as KeyboardEvent).key === "Enter" && onPick(name));
    nodes.push(g);
  }
  svg.replaceChildren(...nodes);
}

function stateOf(store: Store, service: string): State {
  let worst: State = "stopped";
  let rank = Infinity;
  for (const doc of store.services.values()) {
    if (doc.service !== service) continue;
    const r = SEVERITY.indexOf(doc.state);
    if (r < rank) {
      rank = r;
      worst = doc.state;
    }
  }
  return worst;
}
