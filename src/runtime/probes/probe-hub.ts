import type { Clock } from "../../core/clock.js";
import type { ProbeState, ProbeStatus } from "../../core/probe-tracker.js";
import type { ServiceConfig } from "../../manifest/types.js";
import { ProbeRunner, type ProbeKind } from "./probe-runner.js";

export interface ProbeHubEvents {
  /** liveness failed: the child is to be restarted with reason probe */
  livenessFailed(name: string, detail: string): void;
  /** readiness changed: health and `depends_on: healthy` may follow */
  readinessChanged(name: string, status: ProbeStatus): void;
  /** any probe passed or failed anew: worth a status rewrite */
  changed(name: string): void;
}

export interface ProbeDoc {
  readonly status: ProbeStatus;
  readonly last_detail: string | null;
  readonly consecutive_failures: number;
  readonly checks: number;
}

/** The probes of every running child: started with the child, stopped with it. */
export class ProbeHub {
  private readonly running = new Map<string, { liveness: ProbeRunner | null; readiness: ProbeRunner | null }>();

  constructor(
    private readonly clock: Clock,
    private readonly events: ProbeHubEvents,
  ) {}

  /** (Re)starts the probes of `config` for a child that runs with environment `env`. */
  start(config: ServiceConfig, env: Readonly<Record<string, string>>): void {
    this.stop(config.name);
    const make = (kind: ProbeKind): ProbeRunner | null => {
      const probe = config.probes[kind];
      if (!probe) return null;
      const runner = new ProbeRunner(config.name, kind, probe, {
        clock: this.clock,
        cwd: config.cwd,
        env,
        onChange: (change, state) => {
          if (kind === "liveness" && change === "failing") {
            this.events.livenessFailed(config.name, `liveness probe failed ${state.consecutiveFailures} times: ${state.lastDetail ?? "?"}`);
          }
          if (kind === "readiness") this.events.readinessChanged(config.name, change);
          this.events.changed(config.name);
        },
      });
      runner.start();
      return runner;
    };
    const entry = { liveness: make("liveness"), readiness: make("readiness") };
    if (entry.liveness || entry.readiness) this.running.set(config.name, entry);
  }

  stop(name: string): void {
    const entry = this.running.get(name);
    if (!entry) return;
    entry.liveness?.stop();
    entry.readiness?.stop();
    this.running.delete(name);
  }

  stopAll(): void {
    for (const name of [...this.running.keys()]) this.stop(name);
  }

  readiness(name: string): ProbeStatus | null {
    return this.running.get(name)?.readiness?.state().status ?? null;
  }

  doc(name: string): { liveness: ProbeDoc | null; readiness: ProbeDoc | null } | null {
    const entry = this.running.get(name);
    if (!entry) return null;
    return { liveness: toDoc(entry.liveness?.state()), readiness: toDoc(entry.readiness?.state()) };
  }
}

function toDoc(state: ProbeState | undefined): ProbeDoc | null {
  if (!state) return null;
  return { status: state.status, last_detail: state.lastDetail, consecutive_failures: state.consecutiveFailures, checks: state.totalChecks };
}
