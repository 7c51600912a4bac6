// The stack's HTTP API: GET /health, POST /work enqueues a job on the queue service.
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 3100);
const queue = `http://127.0.0.1:${process.env.QUEUE_PORT ?? 3101}`;
let served = 0;

const server = createServer(async (req, res) => {
  served++;
  if (req.url === "/health") return json(res, 200, { ok: true, served });
  if (req.method === "POST" && req.url === "/work") {
    try {
      const r = await fetch(`${queue}/jobs`, { method: "POST" });
      return json(res, 202, await r.json());
    } catch (err) {
      return json(res, 503, { error: `queue unavailable: ${err.message}` });
    }
  }
  json(res, 404, { error: "not found" });
});

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

server.listen(port, "127.0.0.1", () => console.log(`api listening on http://127.0.0.1:${port}`));
process.on("SIGTERM", () => {
  console.log("api: SIGTERM, finishing requests");
  server.close(() => process.exit(0));
});
