import type { ControlHandler } from "./control-server.js";
import { Supervisor, UnknownServiceError } from "./supervisor.js";

/** Answers the control socket's requests from the supervisor. */
export function controlHandler(supervisor: Supervisor): ControlHandler {
  return async (req) => {
    try {
      switch (req.cmd) {
        case "ping":
          return { ok: true, data: { pid: process.pid } };
        case "status":
          return { ok: true, data: supervisor.status(req.names) };
        case "down":
          await supervisor.shutdown();
          return { ok: true };
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
