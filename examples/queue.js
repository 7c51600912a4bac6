// A tiny in-memory job queue over HTTP: POST /jobs adds one, POST /jobs/take hands one out.
import { createServer } from "node:http";

const port = Number(process.env.QUEUE_PORT ?? 3101);
const jobs = [];
let nextId = 1;

const server = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/jobs") {
    const job = { id: nextId++, at: new Date().toISOString() };
    jobs.push(job);
    return send(res, 201, job);
  }
  if (req.method === "POST" && req.url === "/jobs/take") {
    const job = jobs.shift();
    return job ? send(res, 200, job) : send(res, 204, null);
  }
  if (req.url === "/health") return send(res, 200, { ok: true, queued: jobs.length });
  send(res, 404, { error: "not found" });
});

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(body === null ? "" : JSON.stringify(body));
}

server.listen(port, "127.0.0.1", () => console.log(`queue listening on 127.0.0.1:${port}`));
process.on("SIGTERM", () => {
  console.log("queue: SIGTERM, closing");
  server.close(() => process.exit(0));
});
