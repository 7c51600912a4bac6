// `vigil stop` and `vigil restart` answer once the work is done, not when it is asked for: a stop once
// each instance's job is gone, a restart once each slot runs a new child (or has plainly failed to).
// The request is remembered by slot (service and index), since a start-first restart puts a new
// instance in the slot; settle() looks at the open ones after every step.
import type { CommandAnswer } from "./commands.js";
import type { ReplyTo } from "./inputs.js";
import { nameOf, type Instance, type StackState } from "./state.js";
import type { Turn } from "./turn.js";

export interface AwaitedSlot {
  readonly service: string;
  readonly index: number;
  /** the child running when the command came, null if none: a restart is done once another one runs */
  readonly pidBefore: number | null;
  /**
   * the instance's count of given-up start-first replacements: a second one that fails for the same
   * reason as the first (not ready within ready_timeout, twice) is still an answer
   */
  readonly rolloverFailuresBefore: number;
  readonly idBefore: string;
  readonly incarnationBefore: number;
}

export interface AwaitedCommand {
  readonly replyTo: ReplyTo;
  readonly cmd: "stop" | "restart";
  readonly slots: readonly AwaitedSlot[];
}

export function slotOf(instance: Instance): AwaitedSlot {
  return {
    service: instance.service,
    index: instance.index,
    pidBefore: instance.status.pid,
    rolloverFailuresBefore: instance.rolloverFailures,
    idBefore: instance.id,
    incarnationBefore: instance.status.incarnation,
  };
}

/** Answers every awaited command whose work is done. */
export function settleAwaited(t: Turn): void {
  const { state } = t;
  for (let i = state.awaited.length - 1; i >= 0; i--) {
    const awaited = state.awaited[i]!;
    const answer = outcome(state, awaited);
    if (answer === null) continue;
    state.awaited.splice(i, 1);
    t.emit({ type: "Reply", to: awaited.replyTo, answer });
  }
}

/** null while some slot is still on its way */
function outcome(state: StackState, awaited: AwaitedCommand): CommandAnswer | null {
  const failures: string[] = [];
  for (const slot of awaited.slots) {
    const instance = current(state, slot);
    const verdict = instance === null ? (awaited.cmd === "stop" ? "done" : "removed") : awaited.cmd === "stop" ? stopped(instance, slot) : restarted(state, instance, slot);
    if (verdict === null) return null;
    if (verdict !== "done") failures.push(`${instance === null ? slot.service : nameOf(state, instance)} ${verdict}`);
  }
  if (state.shuttingDown && awaited.cmd === "restart") return { ok: false, error: "the supervisor is shutting down", code: "shutting-down" };
  if (failures.length > 0) return { ok: false, error: failures.join("; "), code: "not-done" };
  return { ok: true };
}

function current(state: StackState, slot: AwaitedSlot): Instance | null {
  const id = state.services.get(slot.service)?.instances[slot.index];
  return (id === undefined ? undefined : state.instances.get(id)) ?? null;
}

function stopped(instance: Instance, slot: AwaitedSlot): string | null {
  const s = instance.status;
  const idle = (s.state === "stopped" || s.state === "exited" || s.state === "fatal") && s.pid === null && !s.spawnInFlight;
  if (idle && instance.successor === null) return "done";
  // a start came while it stopped (a person, an edit that added it back): its next child is on its way,
  // and waiting for that one to stop as well would wait for ever
  if (!idle && (instance.id !== slot.idBefore || s.incarnation > slot.incarnationBefore)) return "was started again";
  return null;
}

function restarted(state: StackState, instance: Instance, slot: AwaitedSlot): string | null {
  if (state.shuttingDown) return "done";
  if (instance.successor !== null) return null;
  const s = instance.status;
  if (s.state === "running" && s.pid !== null && s.pid !== slot.pidBefore) return "done";
  // a start-first restart given up: the old child keeps serving, and the answer says why
  if (s.state === "running" && instance.rolloverError !== null && instance.rolloverFailures > slot.rolloverFailuresBefore) {
    return `kept its running child: ${instance.rolloverError}`;
  }
  const anew = instance.id !== slot.idBefore || s.incarnation > slot.incarnationBefore;
  // a job that ran again and finished well has been restarted
  if (s.state === "exited" && anew && s.lastExit?.reason === "exit" && s.lastExit.code === 0) return "done";
  if (s.state === "fatal" || s.state === "exited" || s.state === "backoff") return `did not start (${s.state})`;
  if (s.state === "stopped" && !s.spawnInFlight) return "was stopped";
  return null;
}
