// The `schedule:` adapter: croner computes when each scheduled service's next tick comes, the clock arms
// one timer for it, and the tick is posted to the loop as ScheduleTicked (with the time of the tick
// after it, for the status). What a tick does (start a run, skip, queue, replace) is the core's
// (core/stack/schedule.ts). A changed expression or time zone on reload re-arms the timer.
import { Cron } from "croner";
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { Input } from "../../core/stack/inputs.js";
import type { Manifest, ScheduleConfig } from "../../manifest/types.js";
import { CRON_MODE } from "../../manifest/cron.js";

interface Armed {
  readonly key: string;
  readonly cron: Cron;
  timer: TimerHandle | null;
}

export class ServiceSchedules {
  readonly #byService = new Map<string, Armed>();
  #closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly post: (input: Input) => void,
  ) {}

  /** Arms what `manifest` asks for: new and changed schedules start, removed ones stop. */
  configure(manifest: Manifest): void {
    if (this.#closed) return;
    const wanted = new Map<string, ScheduleConfig>();
    for (const service of manifest.services) if (service.schedule) wanted.set(service.name, service.schedule);
    for (const [name, armed] of this.#byService) {
      const next = wanted.get(name);
      if (next && keyOf(next) === armed.key) {
        wanted.delete(name);
        continue;
      }
      this.#disarm(name, armed);
    }
    for (const [name, config] of wanted) {
      const cron = new Cron(config.cron, { mode: CRON_MODE, paused: true, ...(config.timezone ? { timezone: config.timezone } : {}) });
      const armed: Armed = { key: keyOf(config), cron, timer: null };
      this.#byService.set(name, armed);
      const first = this.#arm(name, armed, this.clock.wallNow());
      this.post({ type: "ScheduleArmed", service: name, nextRunAtWallMs: first });
    }
  }

  /** Arms the timer for the first tick after `afterWallMs`; returns its time (null: the expression has no more). */
  #arm(service: string, armed: Armed, afterWallMs: number): number | null {
    const next = armed.cron.nextRun(new Date(afterWallMs))?.getTime() ?? null;
    if (next === null) return null;
    armed.timer = this.clock.setTimer(Math.max(0, next - this.clock.wallNow()), () => {
      if (this.#closed || this.#byService.get(service) !== armed) return;
      // a timer a little early must not tick the same time twice: the next one is after this one
      const following = this.#arm(service, armed, Math.max(next, this.clock.wallNow()));
      this.post({ type: "ScheduleTicked", service, nextRunAtWallMs: following });
    });
    return next;
  }

  #disarm(service: string, armed: Armed): void {
    if (armed.timer !== null) this.clock.clearTimer(armed.timer);
    armed.cron.stop();
    this.#byService.delete(service);
  }

  close(): void {
    this.#closed = true;
    for (const [name, armed] of [...this.#byService]) this.#disarm(name, armed);
  }
}

function keyOf(config: ScheduleConfig): string {
  return JSON.stringify([config.cron, config.timezone]);
}
