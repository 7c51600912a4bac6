#!/bin/sh
# Enqueues a job through the API every few seconds.
port="${PORT:-3100}"
echo "producer: posting work to the api on port $port"
while true; do
  node -e "fetch('http://127.0.0.1:$port/work',{method:'POST'}).then(r=>r.json()).then(j=>console.log('producer: queued job',j.id)).catch(e=>console.error('producer:',e.message))"
  sleep 3
done
