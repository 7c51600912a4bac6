// Answers the control socket's requests through the loop: each becomes a command with a reply slot.
// A status answer names the instances; their document is rendered here, in slices.
import type { StackCommand } from "../../core/stack/commands.js";
import type { ControlRequest } from "../../control/protocol.js";
import type { ControlAnswer, ControlHandler } from "./control-socket.js";
import type { Stack } from "../stack.js";

export function controlHandler(stack: Stack): ControlHandler {
  return async (req) => {
    if (req.cmd === "ping") return { ok: true, data: { pid: process.pid } };
    if (req.cmd === "status" && req.watch === true) stack.sampling.touch();
    const answer = await stack.command(toCommand(req));
    if (!answer.ok) return answer;
    if ("status" in answer) {
      // every service: the renderer may answer with the text it has already made
      const ids = req.cmd === "status" && (req.names ?? []).length === 0 ? undefined : answer.status.ids;
      return { ok: true, dataJson: await stack.renderer.json({ ...(ids ? { ids } : {}), history: answer.status.history }) };
    }
    // the client of `down` waits for this pid to be gone: `vigil down` returns once `vigil up` has exited
    if (req.cmd === "down") return { ok: true, data: { pid: process.pid } };
    return answer.data === undefined ? { ok: true } : { ok: true, data: answer.data };
  };
}

function toCommand(req: Exclude<ControlRequest, { cmd: "ping" }>): StackCommand {
  switch (req.cmd) {
    case "status":
      return { cmd: "status", names: req.names ?? [], history: req.history === true };
    case "start":
    case "stop":
    case "restart":
      return { cmd: req.cmd, names: req.names, wait: req.wait === true };
    case "scale":
      return { cmd: "scale", service: req.service, replicas: req.replicas };
    case "beats":
      return { cmd: "beats", names: req.names ?? [], sinceWallMs: req.since ?? null, untilWallMs: req.until ?? null };
    case "tasks":
      return { cmd: "tasks", names: req.names ?? [] };
    case "reload":
    case "down":
    case "wait-started":
      return { cmd: req.cmd };
  }
}
