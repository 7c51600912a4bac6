import type { StatusDocument } from "../control/status-document.js";
import { ControlError, NoSupervisorError } from "../control/client.js";
import type { ControlRequest } from "../control/protocol.js";
import { ask, askText } from "./target.js";
import { UserError } from "./user-error.js";

export interface StatusOptions {
  readonly json: boolean;
  /** the status document with each service's resource history (json only) */
  readonly history?: boolean;
  /** redraw every second until SIGINT */
  readonly watch?: boolean;
}

const WATCH_MS = 1000;
const CLEAR = "\x1b[H\x1b[2J";

export async function statusCommand(names: readonly string[], file: string, opts: StatusOptions): Promise<void> {
  const req: ControlRequest = { cmd: "status", ...(names.length > 0 ? { names } : {}), history: opts.json && opts.history === true };
  if (opts.watch) return watchStatus({ ...req, watch: true }, file, opts.json);
  if (opts.json && process.stdout.isTTY !== true) {
    // for a script: the document as the supervisor wrote it, compact, one line (see requestText)
    process.stdout.write(await askText(file, req));
    process.stdout.write("\n");
    return;
  }
  process.stdout.write(await show(await askStatus(file, req), opts.json));
}

function askStatus(file: string, req: ControlRequest): Promise<StatusDocument> {
  return ask(file, req) as Promise<StatusDocument>;
}

/** the table's modules are loaded only for a table: `status --json` in a script's loop starts faster without them */
async function show(doc: StatusDocument, json: boolean): Promise<string> {
  if (json) return `${JSON.stringify(doc, null, 2)}\n`;
  const [{ renderTable }, { wantsColor }] = await Promise.all([import("./status-table.js"), import("../runtime/outputs/printer.js")]);
  return renderTable(doc, Date.now(), { color: wantsColor(process.stdout) });
}

/** Redraws in place on a terminal, one table after another otherwise; exit 0 on SIGINT, 1 once the supervisor is gone. */
async function watchStatus(req: ControlRequest, file: string, json: boolean): Promise<void> {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once("SIGINT", stop).once("SIGTERM", stop);
  const tty = process.stdout.isTTY === true;
  try {
    for (let first = true; !abort.signal.aborted; first = false) {
      let doc: StatusDocument;
      try {
        doc = await askStatus(file, req);
      } catch (err) {
        if (abort.signal.aborted) return;
        if (!first && err instanceof UserError && isGone(err.cause)) {
          throw new UserError("vigil: the supervisor has gone away", 1, { cause: err });
        }
        throw err;
      }
      if (abort.signal.aborted) return;
      const stamp = `every ${WATCH_MS / 1000}s, ${new Date().toISOString()}; ctrl-c to quit\n`;
      process.stdout.write(`${tty ? CLEAR : first ? "" : "\n"}${stamp}${await show(doc, json)}`);
      await sleep(WATCH_MS, abort.signal);
    }
  } finally {
    process.off("SIGINT", stop).off("SIGTERM", stop);
  }
}

/** the supervisor was there and is not any more: stopped, killed, or closing while it answered */
function isGone(err: unknown): boolean {
  if (err instanceof NoSupervisorError) return true;
  return err instanceof ControlError && ["closed", "shutting-down", "ECONNRESET", "EPIPE"].includes(err.code);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", finish);
      done();
    }
    signal.addEventListener("abort", finish, { once: true });
  });
}
