import type { StatusDocument } from "../control/status-document.js";
import { ask } from "./target.js";
import { renderTable } from "./status-table.js";

export interface StatusOptions {
  readonly json: boolean;
}

export async function statusCommand(names: readonly string[], file: string, opts: StatusOptions): Promise<void> {
  const doc = (await ask(file, names.length > 0 ? { cmd: "status", names } : { cmd: "status" })) as StatusDocument;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  process.stdout.write(renderTable(doc, Date.now()));
}
