// `schedule.cron` and `schedule.timezone` are judged by croner itself, the library that computes the
// runs: what it accepts runs, what it refuses is a manifest error. Five fields, or six with seconds.
import { Cron } from "croner";

export const CRON_MODE = "5-or-6-parts" as const;

/** null when croner takes the pattern, else its complaint */
export function cronProblem(pattern: string): string | null {
  try {
    new Cron(pattern, { mode: CRON_MODE, paused: true }).stop();
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `invalid cron expression "${pattern}": ${message.replace(/^CronPattern: /, "")}`;
  }
}

/** null for an IANA time zone this Node knows, else why not */
export function timezoneProblem(zone: string): string | null {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return null;
  } catch {
    return `unknown time zone "${zone}" (an IANA name such as Europe/Paris or UTC)`;
  }
}
