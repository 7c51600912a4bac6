import { describe, expect, it } from "vitest";
import { createPrinter, prefix } from "../../../src/runtime/outputs/printer.js";
import { PALETTE, serviceColor } from "../../../src/runtime/outputs/service-color.js";

describe("a service's colour", () => {
  it("follows from its name alone, whatever else the stack holds or in which order", () => {
    expect(serviceColor("api")).toBe(serviceColor("api"));
    expect(PALETTE).toContain(serviceColor("api"));
    const a = collect();
    const b = collect();
    for (const [printer, out] of [[createPrinter(a, { color: true }), a], [createPrinter(b, { color: true }), b]] as const) {
      printer.setNames(out === a ? ["api", "db"] : ["db", "worker", "api"]);
      printer.line("api", "out", "x");
      printer.flush();
    }
    expect(a.text.slice(0, 7)).toBe(b.text.slice(0, 7));
    expect(prefix("api", "out", 0, true)).toBe(`\x1b[${serviceColor("api")}mapi |\x1b[0m`);
  });

  it("is shared by the instances of a replicated service", () => {
    expect(serviceColor("web.0")).toBe(serviceColor("web"));
    expect(serviceColor("web.12")).toBe(serviceColor("web"));
  });

  it("spreads a handful of names over more than one colour", () => {
    const names = ["api", "db", "worker", "queue", "producer", "agent", "beat-py", "beat-sh"];
    expect(new Set(names.map(serviceColor)).size).toBeGreaterThan(3);
  });
});

describe("the printer", () => {
  it("pads names to the widest, marks stderr with !, and leaves colour out when told", () => {
    const out = collect();
    const printer = createPrinter(out, { color: false });
    printer.setNames(["api", "worker"]);
    printer.line("api", "out", "listening");
    printer.line("worker", "err", "oops");
    printer.flush();
    expect(out.text).toBe("api    | listening\nworker ! oops\n");
  });

  it("puts the line's own time before it with timestamps", () => {
    const out = collect();
    const printer = createPrinter(out, { color: false, timestamps: true });
    printer.line("api", "out", "hello", Date.UTC(2026, 10, 22, 10, 0, 0, 7));
    printer.flush();
    expect(out.text).toBe("2026-11-22T10:00:00.007Z api | hello\n");
  });
});

function collect(): { text: string; write(t: string): void } {
  return {
    text: "",
    write(t: string) {
      this.text += t;
    },
  };
}
