// Children's output as it is captured, for whoever listens now (the dashboard's log tail): a printer that
// hands each line on to the real one and to the listeners, and costs one empty loop when none listens.
import type { OutputLine } from "../http/backend.js";
import type { Printer } from "./printer.js";

export class OutputTap {
  readonly #listeners = new Set<(line: OutputLine) => void>();

  listen(listener: (line: OutputLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** `printer`, with every line also told to the listeners */
  around(printer: Printer): Printer {
    return {
      setNames: (names) => printer.setNames(names),
      flush: () => printer.flush(),
      line: (instance, stream, text, atMs) => {
        printer.line(instance, stream, text, atMs);
        if (this.#listeners.size === 0) return;
        const line: OutputLine = { instance, stream, text, atMs: atMs ?? Date.now() };
        for (const listener of this.#listeners) listener(line);
      },
    };
  }
}
