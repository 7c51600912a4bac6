// How `vigil logs --json` writes a line of a service's output: one JSON object a line, for programs.

/** where `vigil logs` and `vigil attach` put the lines they read (a Printer, or JSON lines) */
export interface Output {
  setNames(names: readonly string[]): void;
  line(service: string, stream: "out" | "err", text: string, atMs?: number): void;
  flush(): void;
}

export interface JsonLogLine {
  /** when the supervisor read the line (ISO 8601, UTC) */
  readonly time: string;
  readonly service: string;
  /** the instance's index, as in the status document (0 for a service without replicas) */
  readonly instance: number;
  readonly stream: "stdout" | "stderr";
  readonly line: string;
}

/**
 * A line of the log named `logName` (`api`, or `web.1` for an instance of a replicated service) as JSON.
 * `services` are the manifest's names, so that a service whose own name ends in `.N` is not taken for an
 * instance.
 */
export function jsonLine(entry: { readonly service: string; readonly stream: "out" | "err"; readonly text: string; readonly atMs: number }, services: readonly string[]): JsonLogLine {
  const { service, instance } = instanceOf(entry.service, services);
  return {
    time: new Date(entry.atMs).toISOString(),
    service,
    instance,
    stream: entry.stream === "err" ? "stderr" : "stdout",
    line: entry.text,
  };
}

export function instanceOf(logName: string, services: readonly string[]): { service: string; instance: number } {
  if (services.includes(logName)) return { service: logName, instance: 0 };
  const m = /^(.+)\.(\d+)$/.exec(logName);
  return m ? { service: m[1] ?? logName, instance: Number(m[2]) } : { service: logName, instance: 0 };
}
