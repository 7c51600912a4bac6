import { ask } from "./target.js";

export async function controlCommand(cmd: "start" | "stop" | "restart", names: readonly string[], file: string): Promise<void> {
  await ask(file, { cmd, names });
  const done = { start: "started", stop: "stopped", restart: "restarted" }[cmd];
  process.stdout.write(`vigil: ${done} ${names.join(", ")}\n`);
}
