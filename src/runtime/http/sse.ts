// Server-Sent Events on a node:http response: the framing, a keepalive comment, and a bound on how much
// a slow reader may leave unread before it is dropped (it reconnects and gets a fresh snapshot).
import type { ServerResponse } from "node:http";

/** a reader this far behind is closed rather than buffered for */
export const MAX_UNREAD_BYTES = 8 * 1024 * 1024;

/**
 * One event as the text/event-stream format frames it: `event:` then one `data:` line per line of
 * `data` (a line break inside data cannot end the event early), then a blank line.
 */
export function sseFrame(event: string, data: string): string {
  if (/[\r\n]/.test(event)) throw new Error(`bug: an SSE event name with a line break: ${JSON.stringify(event)}`);
  // one pass over the text: status.json's document is some hundred KiB for 1,000 services
  return `event: ${event}\ndata: ${data.replace(/\r\n|\r|\n/g, "\ndata: ")}\n\n`;
}

/** a comment line: ignored by readers, it keeps proxies and the connection from timing out */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store",
  "x-accel-buffering": "no",
  connection: "keep-alive",
} as const;

/** a stream as the live feed writes to it */
export interface SseSink {
  /** the instance whose output this page follows, or null */
  readonly follow: string | null;
  write(text: string): void;
  close(): void;
}

export function responseSink(res: ServerResponse, follow: string | null, onClose: () => void): SseSink {
  let open = true;
  const end = (): void => {
    if (!open) return;
    open = false;
    onClose();
  };
  res.once("close", end);
  return {
    follow,
    write(text) {
      if (!open) return;
      if (res.writableLength > MAX_UNREAD_BYTES) return void res.destroy();
      res.write(text);
    },
    close() {
      if (!open) return;
      res.end();
      end();
    },
  };
}
