#!/usr/bin/env bash
# Stops what start.sh DIR started, by the PIDs it recorded in DIR: the watchdog, the OpenStack
# services (SIGTERM together, SIGKILL after a grace period), MariaDB and Keystone (through
# tests/keystone/stop.sh DIR/keystone), RabbitMQ and its epmd; then whatever process is left
# whose command line names DIR/ (service workers, privsep helpers, sudo), and unmounts Cinder's
# share. A PID is signalled only while its command line still names DIR (epmd: its own port),
# so a reused PID is left alone. Removes nothing: the caller deletes DIR. Idempotent.
# Usage: stop.sh DIR
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: stop.sh DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "$1" && pwd)

# cmdline PID: the process's command line, empty if it is gone.
cmdline() { tr "\0" " " 2>/dev/null <"/proc/$1/cmdline"; }
# ours PID PATTERN: the process is alive and its command line contains PATTERN.
ours() { [[ "$1" =~ ^[0-9]+$ ]] && cmdline "$1" | grep -qF -- "$2"; }
pattern() { # the pattern that identifies DIR/NAME.pid's process
  if [ -f "$dir/$1.pattern" ]; then cat "$dir/$1.pattern"; else echo "$dir/"; fi
}

# stop GRACE NAME...: SIGTERM the processes in DIR/NAME.pid, SIGKILL those left after GRACE seconds.
stop() {
  local grace=$1 name pid left
  shift
  local pids=() pats=() names=()
  for name in "$@"; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    if ours "$pid" "$(pattern "$name")"; then
      kill -TERM "$pid" 2>/dev/null
      pids+=("$pid")
      pats+=("$(pattern "$name")")
      names+=("$name")
    fi
  done
  for _ in $(seq 1 $((grace * 10))); do
    left=0
    for i in "${!pids[@]}"; do ours "${pids[$i]}" "${pats[$i]}" && left=1; done
    [ $left = 0 ] && break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if ours "${pids[$i]}" "${pats[$i]}"; then
      echo "stop.sh: ${names[$i]} (${pids[$i]}) still running after $grace s: SIGKILL" >&2
      kill -KILL "${pids[$i]}" 2>/dev/null
    fi
  done
  for name in "$@"; do rm -f "$dir/$name.pid"; done
}

# The watchdog runs this script itself (as its child) when the watched process is gone: it must
# not stop itself.
if [ -f "$dir/watchdog.pid" ] && [ "$(cat "$dir/watchdog.pid")" != "$PPID" ] && [ "$(cat "$dir/watchdog.pid")" != "$$" ]; then
  w=$(cat "$dir/watchdog.pid")
  if [[ "$w" =~ ^[0-9]+$ ]] && cmdline "$w" | grep -q bash; then kill -TERM "$w" 2>/dev/null; fi
fi
rm -f "$dir/watchdog.pid"

stop 15 nova-compute nova-api nova-scheduler nova-conductor neutron-server cinder-api cinder-scheduler \
  cinder-volume cinder-backup glance-api placement
[ -x "$here/../keystone/stop.sh" ] && "$here/../keystone/stop.sh" "$dir/keystone"
stop 20 rabbitmq
stop 5 epmd

# Left-overs: workers whose parent was killed, privsep daemons, sudo. Only processes whose command
# line names DIR/, never a shell (this script's callers may name DIR), never this script's ancestors.
ancestors=" $$ "
p=$$
while [ "$p" -gt 1 ] 2>/dev/null; do
  p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || break
  ancestors+="$p "
done
sweep() { # sweep SIGNAL: signals the left-overs; prints their PIDs
  local f pid comm
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    case "$ancestors" in *" $pid "*) continue ;; esac
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    case "$comm" in bash | sh | dash | stop.sh | start.sh) continue ;; esac
    if tr '\0' ' ' <"$f" 2>/dev/null | grep -qF -- "$dir/"; then
      kill "-$1" "$pid" 2>/dev/null && echo "$pid"
    fi
  done
}
left=$(sweep TERM)
if [ -n "$left" ]; then
  echo "stop.sh: stopping left-over processes of $dir: $(echo $left)" >&2
  for _ in $(seq 1 50); do
    alive=0
    for pid in $left; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  sweep KILL >/dev/null
fi

# Cinder's share.
if [ -f "$dir/mounts" ]; then
  while read -r m; do
    [ -n "$m" ] || continue
    if mountpoint -q "$m" 2>/dev/null; then
      umount "$m" 2>/dev/null || umount -l "$m" || echo "stop.sh: cannot unmount $m" >&2
    fi
  done <"$dir/mounts"
  rm -f "$dir/mounts"
fi
# Mounts Cinder itself may have made under DIR (none expected).
grep -F " $dir/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do
  umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "stop.sh: cannot unmount $m" >&2
done
exit 0
