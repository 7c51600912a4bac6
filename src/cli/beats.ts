// vigil beats NAME: the beats the supervisor keeps of a service (time and data), in a window, with the
// mean and 95th percentile of the gaps between them and the number of late ones.
import { parseSince } from "./events.js";
import { ask } from "./target.js";
import type { BeatsDoc } from "../core/stack/queries.js";
import { formatMs } from "../core/format.js";

export interface BeatsOptions {
  readonly since?: string;
  readonly until?: string;
  readonly json: boolean;
}

export async function beatsCommand(name: string, file: string, opts: BeatsOptions): Promise<void> {
  const nowMs = Date.now();
  const since = opts.since === undefined ? undefined : parseSince(opts.since, nowMs);
  const until = opts.until === undefined ? undefined : parseSince(opts.until, nowMs, "--until");
  const answer = (await ask(file, { cmd: "beats", names: [name], ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) })) as {
    services: BeatsDoc[];
  };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(answer)}\n`);
    return;
  }
  process.stdout.write(answer.services.map(render).join("\n"));
}

function render(doc: BeatsDoc): string {
  const s = doc.stats;
  const interval = doc.interval_ms === null ? "no heartbeat interval" : `interval ${formatMs(doc.interval_ms)}`;
  const head = `${doc.name}: ${s.beats} ${s.beats === 1 ? "beat" : "beats"} (${interval}, the last ${doc.history} kept)`;
  const lines = doc.beats.map((b) => `  ${localTime(b.at)}${b.data === null ? "" : `  ${JSON.stringify(b.data)}`}`);
  const figures =
    s.mean_interval_ms === null
      ? "  fewer than two beats: no intervals"
      : `  interval mean ${formatMs(s.mean_interval_ms)}, p95 ${formatMs(s.p95_interval_ms ?? 0)}, max ${formatMs(s.max_interval_ms ?? 0)}${s.late === null ? "" : `, ${s.late} late`}`;
  return `${[head, ...lines, figures].join("\n")}\n`;
}

/** 2026-12-06 10:00:01.250, local time */
function localTime(iso: string): string {
  const at = new Date(iso);
  const pad = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}
