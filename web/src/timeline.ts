// The journal's events, newest first: restarts, failures, crash loops, config changes, marked by kind.
import { clockTime } from "./format.js";
import type { Store } from "./store.js";

const SHOWN = 200;
const TONES: Readonly<Record<string, string>> = {
  fatal: "bad", failure: "bad", "spawn-failed": "bad", "config-rejected": "bad", "limit-breach": "bad",
  "restart-scheduled": "warn", exit: "warn", "stop-timeout": "warn", "watch-paused": "warn",
  spawned: "ok", "config-applied": "ok", up: "ok", scaled: "ok",
};

export function drawTimeline(list: HTMLElement, store: Store, filter: string): void {
  const needle = filter.toLowerCase();
  const items: HTMLElement[] = [];
  for (let i = store.events.length - 1; i >= 0 && items.length < SHOWN; i--) {
    const e = store.events[i];
    if (!e) continue;
    const who = e.instance ?? e.service ?? "vigil";
    if (needle && !who.toLowerCase().includes(needle)) continue;
    const li = document.createElement("li");
    li.className = `ev ev-${TONES[e.kind] ?? "info"}`;
    const time = document.createElement("time");
    time.dateTime = e.at;
    time.textContent = clockTime(e.at);
    const kind = document.createElement("span");
    kind.className = "ev-kind";
    kind.textContent = e.kind;
    const name = document.createElement("b");
    name.textContent = who;
    li.append(time, " ", kind, " ", name, ` ${e.message}`);
    items.push(li);
  }
  list.replaceChildren(...items);
}
