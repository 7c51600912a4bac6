// A child of the chaos stack that beats over the heartbeat socket at half its interval (SPEC §3),
// connecting again whenever the supervisor drops the connection.
import { createConnection } from "node:net";

const { VIGIL_SOCKET, VIGIL_SERVICE, VIGIL_TOKEN, VIGIL_HEARTBEAT_MS } = process.env;
const everyMs = Math.max(50, Number(VIGIL_HEARTBEAT_MS ?? 1000) / 2);
let socket = null;
let beats = 0;

function send(type, data) {
  if (socket === null) {
    socket = createConnection(VIGIL_SOCKET);
    const mine = socket;
    const drop = () => {
      mine.destroy();
      if (socket === mine) socket = null;
    };
    mine.on("error", drop);
    mine.on("close", drop);
  }
  socket.write(`${JSON.stringify({ service: VIGIL_SERVICE, token: VIGIL_TOKEN, type, data })}\n`);
}

send("ready", { argv: process.argv.slice(2) });
setInterval(() => send("beat", { beats: ++beats }), everyMs);
