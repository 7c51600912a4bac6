import { ask } from "./target.js";

export async function downCommand(file: string): Promise<void> {
  // stopping may take every service's stop timeout; the supervisor answers when all are gone
  await ask(file, { cmd: "down" }, 24 * 3_600_000);
  process.stdout.write("vigil: stopped\n");
}
