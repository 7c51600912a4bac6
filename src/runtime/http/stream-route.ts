// GET /api/stream: one live stream per page, at most a few per address, handed to the live feed.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../outputs/logger.js";
import type { ApiBackend } from "./backend.js";
import { HttpError } from "./http-error.js";
import type { LiveFeed } from "./live-feed.js";
import { responseSink, SSE_HEADERS } from "./sse.js";

/** live streams one address may hold open: a few tabs, not a crowd */
export const MAX_STREAMS_PER_PEER = 8;

export class StreamRoute {
  readonly #streamsOf = new Map<string, number>();

  constructor(
    private readonly feed: LiveFeed,
    private readonly backend: Pick<ApiBackend, "status">,
    private readonly logger: Logger,
  ) {}

  open(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const follow = url.searchParams.get("follow") || null;
    if (follow !== null) this.backend.status([follow]); // an unknown name is a 404, and never reaches a file path
    const peer = req.socket.remoteAddress ?? "?";
    const open = this.#streamsOf.get(peer) ?? 0;
    if (open >= MAX_STREAMS_PER_PEER) throw new HttpError(429, `at most ${MAX_STREAMS_PER_PEER} live streams per address; close a tab`, {}, { "retry-after": "5" });
    this.#streamsOf.set(peer, open + 1);
    req.socket.setTimeout(0);
    res.writeHead(200, SSE_HEADERS);
    res.write("retry: 1000\n\n");
    const sink = responseSink(res, follow, () => {
      const left = (this.#streamsOf.get(peer) ?? 1) - 1;
      if (left > 0) this.#streamsOf.set(peer, left);
      else this.#streamsOf.delete(peer);
      this.feed.close(sink);
    });
    void this.feed.open(sink).catch((err: unknown) => {
      this.logger.log("error", null, "http-error", `http: a live stream failed: ${(err as Error)?.message ?? String(err)}`);
      sink.close();
    });
  }
}
