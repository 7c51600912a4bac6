// Children's output on the supervisor's stdout, each line prefixed with its service name, as foreman does.

const PALETTE = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

/** where output goes: a stream, or anything that takes text */
export interface TextSink {
  write(text: string): unknown;
}

export interface Printer {
  /** width of the name column, so that output lines up */
  setNames(names: readonly string[]): void;
  line(service: string, stream: "out" | "err", text: string): void;
  flush(): void;
}

export function createPrinter(out: TextSink | null, color: boolean): Printer {
  let width = 0;
  const colors = new Map<string, number>();
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0 || !out) return;
    const chunk = pending.join("");
    pending = [];
    out.write(chunk);
  };
  return {
    setNames(names) {
      width = Math.min(24, Math.max(0, ...names.map((n) => n.length)));
      names.forEach((n, i) => {
        if (!colors.has(n)) colors.set(n, PALETTE[i % PALETTE.length] ?? 36);
      });
    },
    line(service, stream, text) {
      if (!out) return;
      const name = service.padEnd(width);
      const sep = stream === "err" ? "!" : "|";
      pending.push(color ? `\x1b[${colors.get(service) ?? 36}m${name} ${sep}\x1b[0m ${text}\n` : `${name} ${sep} ${text}\n`);
      // one write per turn of the event loop, however many lines arrived in it
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** Colour on a TTY unless NO_COLOR is set (https://no-color.org); FORCE_COLOR forces it. */
export function wantsColor(stream: NodeJS.WriteStream): boolean {
  if (process.env["NO_COLOR"] !== undefined && process.env["NO_COLOR"] !== "") return false;
  if (process.env["FORCE_COLOR"] !== undefined && process.env["FORCE_COLOR"] !== "0") return true;
  return stream.isTTY === true;
}
