export const DEFAULT_HEARTBEAT_MS = 5000;

/** What the supervisor tells a child through VIGIL_* variables; empty values count as unset. */
export interface ClientEnv {
  readonly service: string | undefined;
  readonly token: string | undefined;
  readonly socketPath: string | undefined;
  readonly intervalMs: number;
}

export function readClientEnv(env: NodeJS.ProcessEnv = process.env): ClientEnv {
  return {
    service: nonEmpty(env["VIGIL_SERVICE"]),
    token: nonEmpty(env["VIGIL_TOKEN"]),
    socketPath: nonEmpty(env["VIGIL_SOCKET"]),
    intervalMs: parseInterval(env["VIGIL_HEARTBEAT_MS"]) ?? DEFAULT_HEARTBEAT_MS,
  };
}

export function parseInterval(value: string | number | undefined): number | undefined {
  const ms = typeof value === "string" ? Number(value.trim() || Number.NaN) : value;
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
