// The page's one live stream: text/event-stream read through fetch (EventSource cannot send the
// Authorization header a non-loopback server wants), reconnected with backoff when it ends, as when the
// supervisor restarts.
import { parseSse, type SseEvent } from "./sse-parse.js";

export type StreamState = "connecting" | "live" | "lost";

export interface StreamHandlers {
  onEvent(event: SseEvent): void;
  onState(state: StreamState, detail?: string): void;
}

export interface Stream {
  close(): void;
}

export function openStream(url: () => string, headers: () => Record<string, string>, handlers: StreamHandlers): Stream {
  let closed = false;
  let controller: AbortController | null = null;
  let delayMs = 500;
  const run = async (): Promise<void> => {
    while (!closed) {
      controller = new AbortController();
      handlers.onState("connecting");
      try {
        const res = await fetch(url(), { headers: headers(), signal: controller.signal, cache: "no-store" });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        handlers.onState("live");
        delayMs = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          // a large event comes in many chunks: read the buffer only once one has ended
          if (!value.includes("\n\n") && !buffer.slice(-value.length - 1).includes("\n\n")) continue;
          const parsed = parseSse(buffer);
          buffer = parsed.rest;
          for (const event of parsed.events) handlers.onEvent(event);
        }
        if (!closed) handlers.onState("lost", "the supervisor closed the stream");
      } catch (err) {
        if (closed) return;
        handlers.onState("lost", (err as Error).message);
      }
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(5_000, delayMs * 2);
    }
  };
  void run();
  return {
    close() {
      closed = true;
      controller?.abort();
    },
  };
}
