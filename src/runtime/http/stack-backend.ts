// The stack as the HTTP API sees it: reads from the loop's state, commands through the loop.
import { observe } from "../../core/beat-watch.js";
import type { CommandAnswer, StackCommand } from "../../core/stack/commands.js";
import { knownNames, resolve, unknownNamesText } from "../../core/stack/control.js";
import { healthOf } from "../../core/stack/health.js";
import { configOf, instancesInOrder, nameOf } from "../../core/stack/state.js";
import type { Stack } from "../stack.js";
import { takePing } from "../ping/intake.js";
import { join } from "node:path";
import { readTail, parseLogLine } from "../../cli/logs.js";
import { journalPath, parseJournalLine } from "../outputs/journal.js";
import {
  BadRequestError,
  ShuttingDownError,
  UnknownServiceError,
  type ApiBackend,
  type DashboardSource,
  type HeartbeatServiceDoc,
  type RestartCounts,
} from "./backend.js";

export function stackBackend(stack: Stack): ApiBackend {
  return {
    // a reader of /api/status or a metrics scraper comes back for fresh figures: the full pace meanwhile
    // (an open dashboard holds it through its stream, see onStatus)
    readFigures: () => stack.sampling.touch(),
    status(names = [], opts) {
      const found = resolve(stack.state, names);
      if ("unknown" in found) throw new UnknownServiceError(unknownNamesText(stack.state, found.unknown), knownNames(stack.state));
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
    beats: (name, sinceWallMs, untilWallMs) => query(stack, { cmd: "beats", names: [name], sinceWallMs, untilWallMs }),
    tasks: (name) => query(stack, { cmd: "tasks", names: [name] }),
    ping(name, signal, token, httpToken) {
      const intake = takePing(stack.state, name, signal, token, httpToken, process.env);
      if (!intake.ok) return intake;
      stack.loop.post(intake.input);
      return { ok: true };
    },
    scale(service, replicas) {
      const answer = commandNow(stack, { cmd: "scale", service, replicas });
      if (answer.ok) return;
      if (answer.code === "unknown-service") throw new UnknownServiceError(answer.error, knownNames(stack.state));
      if (answer.code === "shutting-down") throw new ShuttingDownError();
      throw new BadRequestError(answer.error);
    },
    dashboard: dashboardSource(stack),
  };
}

function dashboardSource(stack: Stack): DashboardSource {
  return {
    subscribe: (listener) => stack.bus.subscribe(listener),
    onOutput: (listener) => stack.output.listen(listener),
    onStatus(listener) {
      // an open page draws CPU and memory live: the full sampling pace while one listens
      const release = stack.sampling.watch();
      const off = stack.onStatusWritten(listener);
      return () => {
        off();
        release();
      };
    },
    supervisor: () => stack.renderer.supervisorDoc(),
    async journal(count) {
      // read backwards from the end, as `vigil logs` reads a log: the journal may hold 10 MiB; state
      // changes are left out (the list shows them), so twice as many lines are read
      const tail = await readTail(journalPath(stack.manifest.stateDir), count * 2);
      return tail.lines.flatMap((line) => parseJournalLine(line) ?? []).filter((e) => e.level !== "debug").slice(-count);
    },
    async logTail(instance, count) {
      // only a name the stack knows reaches the file system
      if (!knownNames(stack.state).includes(instance)) throw new UnknownServiceError(unknownNamesText(stack.state, [instance]), knownNames(stack.state));
      const tail = await readTail(join(stack.manifest.stateDir, "logs", `${instance}.log`), count);
      const now = Date.now();
      return tail.lines.map((raw) => {
        const entry = parseLogLine(instance, raw, now);
        return { instance, stream: entry.stream, text: entry.text, atMs: entry.atMs };
      });
    },
    layout() {
      const state = stack.state;
      return state.manifest.services.map((c) => ({
        name: c.name,
        depends_on: { ...c.dependsOn },
        replicas: state.services.get(c.name)?.replicas ?? c.replicas,
        heartbeat: c.heartbeat ? { interval_ms: c.heartbeat.intervalMs, misses: c.heartbeat.misses } : null,
        schedule: c.schedule?.cron ?? null,
        disabled: c.disabled,
      }));
    },
  };
}

function query(stack: Stack, command: StackCommand): unknown {
  const answer = commandNow(stack, command);
  if (answer.ok) return "data" in answer ? answer.data : undefined;
  if (answer.code === "unknown-service") throw new UnknownServiceError(answer.error, knownNames(stack.state));
  throw new Error(answer.error);
}

/** A command whose answer the loop gives at once (start, stop, restart): posted, then read. */
function commandNow(stack: Stack, command: StackCommand): CommandAnswer {
  let answer: CommandAnswer | undefined;
  const replyTo = stack.replies.open((a) => (answer = a));
  stack.loop.post({ type: "ControlRequested", replyTo, command });
  if (answer === undefined) throw new Error(`bug: ${command.cmd} was not answered at once`);
  return answer;
}
