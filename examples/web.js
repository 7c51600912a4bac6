// A zero-downtime HTTP server: it serves on the listening socket vigil hands it on fd 3 (`sockets:`),
// says `ready` once it accepts, and on SIGTERM finishes what it has and exits. Under `restart.mode:
// start-first` the next child takes the same socket before this one is stopped, and connections that
// come in between wait in the kernel's backlog, so a restart loses no request.
// Without vigil (no LISTEN_FDS) it listens on PORT itself.
import { createServer } from "node:http";
import { heartbeat } from "vigil/client";

const fromVigil = process.env.LISTEN_FDS !== undefined && Number(process.env.LISTEN_PID) === process.pid;
const hb = heartbeat();
let served = 0;

const server = createServer((req, res) => {
  served++;
  res.writeHead(200, { "content-type": "application/json", connection: "close" });
  res.end(JSON.stringify({ pid: process.pid, served }));
});

const where = fromVigil ? { fd: 3 } : { port: Number(process.env.PORT ?? 3200), host: "127.0.0.1" };
server.listen(where, () => {
  console.log(`web: pid ${process.pid} serving on ${fromVigil ? `fd 3 (${process.env.LISTEN_FDNAMES})` : `port ${where.port}`}`);
  hb.ready();
});

process.on("SIGTERM", () => {
  hb.stop();
  // stop accepting; the socket stays open in vigil and in the next child
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
});
