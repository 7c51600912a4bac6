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
  // counted first, then copied into an array of the right length: a service restarting back to back
  // with a long window carries hundreds of times, and a filter and a push grew a copy of them step
  // by step at every restart
  let inside = 0;
  for (const t of times) if (nowMs - t < windowMs) inside++;
  const kept = new Array<number>(inside + 1);
  let i = 0;
  for (const t of times) if (nowMs - t < windowMs) kept[i++] = t;
  kept[i] = nowMs;
  return { times: kept, exceeded: kept.length > maxRestarts };
}
