#!/usr/bin/env bash
# Stops what start.sh DIR started, by the PIDs it wrote, with their children (a Swift
# server's workers, which a SIGKILLed parent would leave behind), and waits for them to
# exit. Removes nothing.
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: stop.sh DIR" >&2; exit 2; }
dir=$1
pids=()
for f in "$dir"/*.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  for p in $(pgrep -P "$pid") "$pid"; do
    kill "$p" 2>/dev/null && pids+=("$p")
  done
  rm -f "$f"
done
for _ in $(seq 1 100); do
  alive=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive -eq 0 ] && exit 0
  sleep 0.1
done
for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
exit 0
