#!/bin/sh
# A shell job that proves it is alive with `vigil beat` (vigil puts its command on its children's PATH).
# Outside vigil it runs the same and sends nothing.
interval_ms="${VIGIL_HEARTBEAT_MS:-5000}"
pause=$(awk "BEGIN { print $interval_ms / 2000 }")

beat() {
  # not under vigil: nothing to tell; a failed beat is reported by vigil beat but never stops the job
  [ -n "${VIGIL_SOCKET:-}" ] || return 0
  vigil beat "$@" || true
}

echo "beat.sh: starting (pid $$)"
beat --ready
n=0
while true; do
  n=$((n + 1))
  echo "beat.sh: unit of work $n"
  beat --data "{\"n\":$n}"
  sleep "$pause"
done
