// The crash-loop detector, after OTP's add_restart: a pure function of past restart times and `now`.

export interface WindowVerdict {
  /** restart times still inside the window, including this one */
  readonly times: readonly number[];
  /** true when this restart would be one too many: the service is declared fatal */
  readonly exceeded: boolean;
}

export function addRestart(
  times: readonly number[],
  nowMs: number,
  windowMs: number,
  maxRestarts: number,
): WindowVerdict {
  const kept = times.filter((t) => nowMs - t < windowMs);
  kept.push(nowMs);
  return { times: kept, exceeded: kept.length > maxRestarts };
}
