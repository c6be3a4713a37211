#!/usr/bin/env bash
# Stops what start.sh DIR started, by the PIDs it recorded in DIR: the watchdog, uwsgi
# (Keystone) and mariadbd; SIGTERM first, SIGKILL after a grace period. A PID is signalled
# only while its command line still names DIR (or, for the watchdog, is a shell), so a
# reused PID is left alone. Removes nothing: the caller deletes DIR. Idempotent.
# Usage: stop.sh DIR
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: stop.sh DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
dir=$(cd "$1" && pwd)

# ours PID PATTERN: the process is alive and its command line contains PATTERN.
ours() {
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# stop NAME PATTERN GRACE: SIGTERM the process in DIR/NAME.pid, SIGKILL it after GRACE seconds.
stop() {
  local f="$dir/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [[ "$pid" =~ ^[0-9]+$ ]] && ours "$pid" "$2"; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 $(($3 * 10))); do
      ours "$pid" "$2" || break
      sleep 0.1
    done
    if ours "$pid" "$2"; then
      echo "stop.sh: $1 ($pid) still running after $3 s: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -f "$f"
}

# The watchdog runs this script itself (as its child, or in its place) when the watched
# process is gone: it must not stop itself.
if [ -f "$dir/watchdog.pid" ] && [ "$(cat "$dir/watchdog.pid")" != "$PPID" ] && [ "$(cat "$dir/watchdog.pid")" != "$$" ]; then
  stop watchdog bash 2
fi
rm -f "$dir/watchdog.pid"
stop uwsgi "$dir" 10
stop mysql "$dir" 30
exit 0
