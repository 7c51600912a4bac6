import { resolve } from "node:path";
import { request, NoSupervisorError, ControlError } from "../control/client.js";
import type { ControlRequest } from "../control/protocol.js";
import { stateDirOf } from "../manifest/state-dir.js";
import { UserError } from "./user-error.js";

export const DEFAULT_MANIFEST = "supervisor.yaml";

/** Asks the supervisor of the stack in `file`; turns every failure into one line and exit status 1. */
export async function ask(
  file: string,
  req: ControlRequest,
  timeoutMs?: number,
  exitCodes: Readonly<Record<string, number>> = {},
): Promise<unknown> {
  const stateDir = stateDirOf(resolve(file));
  try {
    return await request(stateDir, req, timeoutMs);
  } catch (err) {
    if (err instanceof NoSupervisorError) throw new UserError(`vigil: ${err.message}`, 1, { cause: err });
    if (err instanceof ControlError) {
      // manifest problems are already FILE:LINE:COL lines
      const message = err.code === "invalid-manifest" ? err.message : `vigil: ${err.message}`;
      throw new UserError(message, exitCodes[err.code] ?? 1, { cause: err });
    }
    throw err;
  }
}
