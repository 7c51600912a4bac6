import { ask } from "./target.js";

/** Stops and restarts wait for as long as the stop rules and a start-first ready_timeout may take. */
const WAIT_MS = 15 * 60_000;

export async function controlCommand(cmd: "start" | "stop" | "restart", names: readonly string[], file: string, opts: { wait: boolean }): Promise<void> {
  await ask(file, { cmd, names, ...(opts.wait ? { wait: true } : {}) }, opts.wait ? WAIT_MS : undefined);
  const done = opts.wait ? { start: "started", stop: "stopped", restart: "restarted" }[cmd] : { start: "starting", stop: "stopping", restart: "restarting" }[cmd];
  process.stdout.write(`vigil: ${done} ${names.length === 0 ? "every service" : names.join(", ")}\n`);
}

export async function reloadCommand(file: string): Promise<void> {
  const outcome = (await ask(file, { cmd: "reload" }, 60_000, { "invalid-manifest": 2 })) as { generation: number; changes: string[] };
  const lines = outcome.changes.length === 0 ? ["no changes"] : outcome.changes;
  process.stdout.write(`vigil: generation ${outcome.generation}: ${lines.join("; ")}\n`);
}

export async function scaleCommand(service: string, replicas: number, file: string): Promise<void> {
  const answer = (await ask(file, { cmd: "scale", service, replicas })) as { from: number; to: number };
  const what = answer.from === answer.to ? `runs ${answer.to}` : `scaled from ${answer.from} to ${answer.to}`;
  process.stdout.write(`vigil: ${service} ${what} ${answer.to === 1 ? "instance" : "instances"}\n`);
}
