// A real local HTTP receiver for alert tests: records every request; answers as the test says,
// or never (a hanging receiver). close() ends the connections it still holds.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach } from "vitest";

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: unknown;
  /** performance.now() when the body was complete */
  readonly atMs: number;
}

/** status to answer with, or "hang" to never answer */
export type Answer = number | "hang";

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** the answer to the n-th request (0-based); default 200 */
  answer: (n: number) => Answer;
  close(): Promise<void>;
}

export async function startReceiver(answer: (n: number) => Answer = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const receiver = { answer } as Receiver & { answer: (n: number) => Answer };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text
      }
      const n = received.length;
      received.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, atMs: performance.now() });
      const status = receiver.answer(n);
      if (status === "hang") return;
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : `status ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** For a test file: a factory of receivers, each closed after its test. */
export function useReceivers(): (answer?: (n: number) => Answer) => Promise<Receiver> {
  const receivers: Receiver[] = [];
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  return async (answer) => {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  };
}
