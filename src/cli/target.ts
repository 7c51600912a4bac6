import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { request, requestText, NoSupervisorError, ControlError } from "../control/client.js";
import type { ControlRequest } from "../control/protocol.js";
import { stateDirOf } from "../manifest/state-dir.js";
import { UserError } from "./user-error.js";

/** One line when `file` names no stack at all (no manifest, no state directory): a mistyped -f, not an empty stack. */
export function noStack(file: string, stateDir: string): UserError | null {
  if (existsSync(file) || existsSync(stateDir)) return null;
  return new UserError(`vigil: ${file} does not exist, nor does a state directory at ${stateDir}`, 1);
}

/** Asks the supervisor of the stack in `file`; turns every failure into one line and exit status 1. */
export function ask(
  file: string,
  req: ControlRequest,
  timeoutMs?: number,
  exitCodes: Readonly<Record<string, number>> = {},
): Promise<unknown> {
  return userErrors(file, request(stateDirOf(resolve(file)), req, timeoutMs), exitCodes);
}

/** ask(), with the answer's data as the JSON text the supervisor wrote (requestText) */
export function askText(file: string, req: ControlRequest, timeoutMs?: number): Promise<Buffer> {
  return userErrors(file, requestText(stateDirOf(resolve(file)), req, timeoutMs), {});
}

async function userErrors<T>(file: string, answer: Promise<T>, exitCodes: Readonly<Record<string, number>>): Promise<T> {
  try {
    return await answer;
  } catch (err) {
    // a supervisor may outlive its deleted manifest, so the file is looked for only when none answers
    if (err instanceof NoSupervisorError) throw new UserError(`vigil: ${err.message}${existsSync(file) ? "" : `; ${file} does not exist`}`, 1, { cause: err });
    if (err instanceof ControlError) {
      // manifest problems are already FILE:LINE:COL lines
      const message = err.code === "invalid-manifest" ? err.message : `vigil: ${err.message}`;
      throw new UserError(message, exitCodes[err.code] ?? 1, { cause: err });
    }
    throw err;
  }
}
