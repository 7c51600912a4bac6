import type { ControlHandler } from "./control-server.js";
import { renderStatusJson } from "./status-render.js";
import { Supervisor, UnknownServiceError } from "./supervisor.js";

export type ReloadOutcome = { readonly ok: true; readonly generation: number; readonly changes: readonly string[] } | { readonly ok: false; readonly error: string };

/** Answers the control socket's requests from the supervisor. */
export function controlHandler(supervisor: Supervisor, reload: () => Promise<ReloadOutcome>): ControlHandler {
  return async (req) => {
    try {
      switch (req.cmd) {
        case "ping":
          return { ok: true, data: { pid: process.pid } };
        case "status":
          return { ok: true, dataJson: await renderStatusJson(supervisor, { names: req.names, history: req.history === true }) };
        case "reload": {
          if (supervisor.isShuttingDown) return { ok: false, error: "the supervisor is shutting down", code: "shutting-down" };
          const outcome = await reload();
          return outcome.ok ? { ok: true, data: outcome } : { ok: false, error: outcome.error, code: "invalid-manifest" };
        }
        case "down":
          await supervisor.shutdown();
          // the client waits for this pid to be gone: `vigil down` returns once `vigil up` has exited
          return { ok: true, data: { pid: process.pid } };
        case "start":
        case "stop":
        case "restart":
          if (supervisor.isShuttingDown) return { ok: false, error: "the supervisor is shutting down", code: "shutting-down" };
          supervisor.control(req.cmd, req.names);
          return { ok: true };
      }
    } catch (err) {
      if (err instanceof UnknownServiceError) return { ok: false, error: err.message, code: "unknown-service" };
      throw err;
    }
  };
}
