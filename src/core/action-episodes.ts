// When an `actions:` command runs (002's recovery actions): once per episode of one kind of trouble. An
// episode begins with the first event of its kind and ends when the instance is well again (healthy, or
// its log grows again) or a person restarts it; events of the same kind inside it run nothing more.
// Pure: a set of open kinds in, a decision out.
import type { ActionConfig, ActionKind, ActionsConfig } from "../manifest/types.js";
import type { FailureReason } from "./types.js";

export type ActionDecision =
  /** nothing configured: vigil does what it always does */
  | { readonly kind: "none" }
  /** the episode has run its command already: restart (or not) as configured, run nothing */
  | { readonly kind: "repeat"; readonly restart: boolean }
  /** run the command; restart once it is done, or never */
  | { readonly kind: "run"; readonly action: ActionKind; readonly config: ActionConfig; readonly restart: boolean };

/** The action a failure of this reason runs: the specific kind where one is configured, else `failed`. */
export function actionKindOf(reason: FailureReason, actions: ActionsConfig): ActionKind {
  if (reason === "probe" && actions.probe) return "probe";
  if ((reason === "memory" || reason === "cpu") && actions.limit) return "limit";
  if (reason === "task-timeout" && actions["task-timeout"]) return "task-timeout";
  return "failed";
}

/**
 * What a trouble of `kind` does. `observeOnly`: the service is never restarted for it (an adopted
 * process without a command to start it again); `restarts`: vigil would restart for it by itself.
 */
export function decideAction(kind: ActionKind, actions: ActionsConfig, open: ReadonlySet<ActionKind>, restarts: boolean, observeOnly: boolean): ActionDecision {
  const config = actions[kind];
  const restart = restarts && !observeOnly && (config === undefined || config.then === "restart");
  if (config === undefined) return observeOnly && restarts ? { kind: "repeat", restart: false } : { kind: "none" };
  if (open.has(kind)) return { kind: "repeat", restart };
  return { kind: "run", action: kind, config, restart: restart || (!restarts && config.then === "restart" && !observeOnly) };
}

/** The instance is well again: every episode ends. */
export function episodesEnd(open: Set<ActionKind>): void {
  open.clear();
}
