// Takes jobs from the queue; crashes now and then, as real workers do, to show restarts and backoff.
const queue = `http://127.0.0.1:${process.env.QUEUE_PORT ?? 3101}`;
const crashChance = Number(process.env.CRASH_CHANCE ?? 0.05);
let done = 0;

async function tick() {
  try {
    const r = await fetch(`${queue}/jobs/take`, { method: "POST" });
    if (r.status === 200) {
      const job = await r.json();
      done++;
      console.log(`worker: did job ${job.id} (${done} so far)`);
    }
  } catch (err) {
    console.error(`worker: queue unreachable: ${err.message}`);
  }
  if (Math.random() < crashChance) {
    console.error("worker: something went wrong, exiting with code 1");
    process.exit(1);
  }
}

setInterval(tick, 1000);
console.log(`worker started (pid ${process.pid})`);
