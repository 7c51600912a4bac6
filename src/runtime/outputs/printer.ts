// Children's output on the supervisor's stdout, each line prefixed with its service name, as foreman does.
// `vigil up`, `vigil attach` and `vigil logs` print through it, so a service looks the same in all three.
import { WallIso } from "../iso-time.js";
import { serviceColor } from "./service-color.js";

/** where output goes: a stream, or anything that takes text */
export interface TextSink {
  write(text: string): unknown;
}

export interface Printer {
  /** width of the name column, so that output lines up */
  setNames(names: readonly string[]): void;
  /** `atMs`: when the line was written (wall clock), for --timestamps; now if not given */
  line(service: string, stream: "out" | "err", text: string, atMs?: number): void;
  flush(): void;
}

export interface PrinterOptions {
  readonly color: boolean;
  /** an ISO time before each line */
  readonly timestamps?: boolean;
}

export function createPrinter(out: TextSink | null, opts: PrinterOptions): Printer {
  let width = 0;
  const iso = new WallIso();
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
    },
    line(service, stream, text, atMs) {
      if (!out) return;
      const time = opts.timestamps === true ? `${iso.of(atMs ?? Date.now())} ` : "";
      pending.push(`${time}${prefix(service, stream, width, opts.color)} ${text}\n`);
      // one write per turn of the event loop, however many lines arrived in it
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** `api  |` (`!` for stderr), padded to `width`, in the service's colour when `color`. */
export function prefix(service: string, stream: "out" | "err", width: number, color: boolean): string {
  const text = `${service.padEnd(width)} ${stream === "err" ? "!" : "|"}`;
  return color ? `\x1b[${serviceColor(service)}m${text}\x1b[0m` : text;
}

/** Colour on a TTY unless NO_COLOR is set (https://no-color.org); FORCE_COLOR forces it. */
export function wantsColor(stream: NodeJS.WriteStream): boolean {
  if (process.env["NO_COLOR"] !== undefined && process.env["NO_COLOR"] !== "") return false;
  if (process.env["FORCE_COLOR"] !== undefined && process.env["FORCE_COLOR"] !== "0") return true;
  return stream.isTTY === true;
}
