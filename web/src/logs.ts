// The followed instance's output: stdout and stderr told apart (a mark and a colour), ANSI colours kept,
// a search that filters the lines, and pause/follow (paused, new lines wait and are counted).
import { ansiToHtml, stripAnsi } from "./ansi.js";
import { clockTime } from "./format.js";
import type { Store } from "./store.js";
import type { LogLine } from "./types.js";

/** lines drawn at most: the newest */
const DRAWN = 500;

export class LogPane {
  paused = false;
  search = "";
  /** lines of the store drawn so far, while following */
  #drawn = 0;
  #instance: string | null = null;

  constructor(
    private readonly box: HTMLElement,
    private readonly status: HTMLElement,
    private readonly store: Store,
  ) {}

  /** draws what is new, or everything again when `all` */
  draw(all = false): void {
    const log = this.store.log;
    if (log.instance !== this.#instance) {
      this.#instance = log.instance;
      all = true;
    }
    const total = log.lines.length;
    if (this.paused && !all) {
      const waiting = Math.max(0, total - this.#drawn);
      this.status.textContent = `paused; ${waiting} new line${waiting === 1 ? "" : "s"}`;
      return;
    }
    const needle = this.search.toLowerCase();
    const matches = (l: LogLine): boolean => needle === "" || stripAnsi(l.text).toLowerCase().includes(needle);
    if (all || this.#drawn > total) {
      this.box.replaceChildren();
      this.#drawn = 0;
    }
    const from = Math.max(this.#drawn, total - DRAWN);
    const fragment = document.createDocumentFragment();
    for (const line of log.lines.slice(from)) if (matches(line)) fragment.append(lineElement(line));
    this.box.append(fragment);
    while (this.box.childElementCount > DRAWN) this.box.firstElementChild?.remove();
    this.#drawn = total;
    const shown = this.box.childElementCount;
    this.status.textContent =
      log.instance === null ? "select a service to follow its output" :
      `${shown} line${shown === 1 ? "" : "s"}${needle ? ` matching “${this.search}”` : ""}${log.dropped ? `; ${log.dropped} skipped while busy` : ""}; following`;
    if (!this.paused) this.box.scrollTop = this.box.scrollHeight;
  }
}

function lineElement(line: LogLine): HTMLElement {
  const div = document.createElement("div");
  div.className = `log-line log-${line.stream}`;
  const mark = document.createElement("span");
  mark.className = "log-mark";
  mark.textContent = line.stream === "err" ? "err" : "out";
  mark.title = line.stream === "err" ? "stderr" : "stdout";
  const time = document.createElement("time");
  time.textContent = clockTime(line.at);
  const text = document.createElement("span");
  text.className = "log-text";
  // ansiToHtml escapes the text before any span is added: nothing of the line becomes markup
  text.innerHTML = ansiToHtml(line.text);
  div.append(mark, time, text);
  return div;
}
