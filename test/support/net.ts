// Network helpers for tests.
import { createServer } from "node:net";

/** A TCP port on 127.0.0.1 that was free a moment ago: listened on and closed again. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
