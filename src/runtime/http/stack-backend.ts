// The stack as the HTTP API sees it: reads from the loop's state, commands through the loop.
import { observe } from "../../core/beat-watch.js";
import type { CommandAnswer, StackCommand } from "../../core/stack/commands.js";
import { knownNames, resolve, unknownNamesText } from "../../core/stack/control.js";
import { healthOf } from "../../core/stack/health.js";
import { configOf, instancesInOrder, nameOf } from "../../core/stack/state.js";
import type { Stack } from "../stack.js";
import { ShuttingDownError, UnknownServiceError, type ApiBackend, type HeartbeatServiceDoc, type RestartCounts } from "./backend.js";

export function stackBackend(stack: Stack): ApiBackend {
  return {
    status(names = [], opts) {
      const found = resolve(stack.state, names);
      if ("unknown" in found) throw new UnknownServiceError(unknownNamesText(stack.state, found.unknown), knownNames(stack.state));
      // a dashboard or a metrics scraper comes back for fresh figures: sample at the full pace meanwhile
      stack.sampling.touch();
      return stack.renderer.document({ ids: found.ids, history: opts?.history === true });
    },
    control(command, names) {
      const answer = commandNow(stack, { cmd: command, names });
      if (answer.ok) return;
      if (answer.code === "unknown-service") throw new UnknownServiceError(answer.error, knownNames(stack.state));
      if (answer.code === "shutting-down") throw new ShuttingDownError();
      throw new Error(answer.error);
    },
    restartCounts() {
      const counts: Record<string, RestartCounts[string]> = {};
      for (const instance of instancesInOrder(stack.state)) counts[nameOf(stack.state, instance)] = { ...instance.restartsByReason };
      return counts;
    },
    heartbeatStatus() {
      const state = stack.state;
      const now = stack.loop.clock.now();
      const services: HeartbeatServiceDoc[] = [];
      const counts = { watched: 0, healthy: 0, degraded: 0, critical: 0, failed: 0 };
      for (const instance of instancesInOrder(state)) {
        const hb = configOf(state, instance).heartbeat;
        if (!hb) continue;
        const health = healthOf(state, instance, now);
        const watch = instance.heartbeat;
        const beaten = watch !== null && !Number.isNaN(watch.lastAtMs);
        if (watch) {
          counts.watched++;
          const level = observe(watch, now).health;
          if (level !== "unknown") counts[level]++;
        }
        const last = instance.messages.lastBeatWallMs;
        services.push({
          name: nameOf(state, instance),
          health,
          last_beat_at: last === null ? null : new Date(last).toISOString(),
          beat_age_ms: beaten ? now - watch.lastAtMs : null,
          interval_ms: hb.intervalMs,
          misses: hb.misses,
        });
      }
      return { monitor: { running: !state.shuttingDown, ...counts }, services };
    },
    alertCounters: () => stack.alertCounters(),
  };
}

/** A command whose answer the loop gives at once (start, stop, restart): posted, then read. */
function commandNow(stack: Stack, command: StackCommand): CommandAnswer {
  let answer: CommandAnswer | undefined;
  const replyTo = stack.replies.open((a) => (answer = a));
  stack.loop.post({ type: "ControlRequested", replyTo, command });
  if (answer === undefined) throw new Error(`bug: ${command.cmd} was not answered at once`);
  return answer;
}
