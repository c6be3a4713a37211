#!/usr/bin/env bash
# Starts a private Swift all-in-one for the tests, everything on 127.0.0.1 and under DIR:
#   memcached (tempauth needs it), the account, container and object servers on one
#   plain-directory device with one replica, the proxy with tempauth and the SLO/DLO
#   middlewares, and the object updater, container updater and object expirer (so that
#   objects with X-Delete-After leave listings, as in a real cluster).
# Usage: start.sh DIR [WATCH_PID]
#   DIR        an empty or new directory; everything lives there
#   WATCH_PID  if given, a watchdog stops the services once that process is gone (and
#              removes DIR if DIR/.remove-on-exit exists)
# On success it writes DIR/env (KEY=VALUE lines, `set -a; . DIR/env` to use them):
#   SWIFT_AUTH_URL, SWIFT_USER, SWIFT_KEY (tempauth admin:admin), SWIFT_PROXY_PORT,
#   SWIFT_PROXY_CONF, STARTUP_SECONDS, and ST_AUTH/ST_USER/ST_KEY for the swift CLI,
# and the PIDs in DIR/*.pid for stop.sh. DIR/restart-proxy.sh restarts the proxy alone
# (the fault tests use it). On failure it stops what it started, prints the end of the
# logs and exits non-zero.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: start.sh DIR [WATCH_PID]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
watch=${2:-}
t0=$(date +%s.%N)

die() {
  echo "start.sh: $*" >&2
  for f in "$dir"/log/*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
  done
  "$here/stop.sh" "$dir" >&2 || true
  exit 1
}

for cmd in memcached swift-ring-builder swift-proxy-server swift-object-server swift-container-server \
  swift-account-server swift-object-expirer swift-object-updater swift-container-updater /usr/bin/python3; do
  command -v "$cmd" >/dev/null || { echo "start.sh: $cmd not found; run tests/setup.sh" >&2; exit 3; }
done

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
etc="$dir/etc"
mkdir -p "$etc" "$dir/srv/node/d1" "$dir/cache" "$dir/log" "$dir/run"
cp /etc/swift/swift.conf "$etc/swift.conf"
mc_port=$(free_port)
obj_port=$(free_port)
cont_port=$(free_port)
acct_port=$(free_port)
proxy_port=$(free_port)

# --- rings: one device, one replica -----------------------------------------------------
for kind in object:$obj_port container:$cont_port account:$acct_port; do
  name=${kind%%:*} port=${kind##*:}
  (cd "$etc" && swift-ring-builder "$name.builder" create 6 1 1 >/dev/null &&
    swift-ring-builder "$name.builder" add "r1z1-127.0.0.1:$port/d1" 100 >/dev/null &&
    swift-ring-builder "$name.builder" rebalance >/dev/null) || die "ring $name"
done

# --- configuration ------------------------------------------------------------------------
common() { # common BIND_PORT
  cat <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 1
user = $(id -un)
swift_dir = $etc
devices = $dir/srv/node
mount_check = false
recon_cache_path = $dir/cache
log_name = swift
log_facility = LOG_LOCAL0
log_level = INFO
CONF
}
{ common "$obj_port"; cat <<CONF
[pipeline:main]
pipeline = object-server
[app:object-server]
use = egg:swift#object
[object-updater]
interval = 5
[object-replicator]
[object-reconstructor]
[object-auditor]
CONF
} >"$etc/object-server.conf"
{ common "$cont_port"; cat <<CONF
[pipeline:main]
pipeline = container-server
[app:container-server]
use = egg:swift#container
[container-updater]
interval = 5
[container-replicator]
[container-auditor]
[container-sync]
[container-sharder]
CONF
} >"$etc/container-server.conf"
{ common "$acct_port"; cat <<CONF
[pipeline:main]
pipeline = account-server
[app:account-server]
use = egg:swift#account
[account-replicator]
[account-auditor]
[account-reaper]
CONF
} >"$etc/account-server.conf"
{ common "$proxy_port"; cat <<CONF
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
storage_url_scheme = http
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mc_port
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
[filter:symlink]
use = egg:swift#symlink
CONF
} >"$etc/proxy-server.conf"
cat >"$etc/internal-client.conf" <<CONF
[DEFAULT]
swift_dir = $etc
user = $(id -un)
[pipeline:main]
pipeline = catch_errors proxy-logging cache proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mc_port
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:catch_errors]
use = egg:swift#catch_errors
CONF
cat >"$etc/object-expirer.conf" <<CONF
[DEFAULT]
swift_dir = $etc
user = $(id -un)
log_name = swift-expirer
recon_cache_path = $dir/cache
[object-expirer]
interval = 2
[pipeline:main]
pipeline = catch_errors proxy-logging cache proxy-server
[app:proxy-server]
use = egg:swift#proxy
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mc_port
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:catch_errors]
use = egg:swift#catch_errors
CONF

# --- processes ----------------------------------------------------------------------------
# launch NAME CMD...: start CMD in the background, its output in log/NAME.log, its PID in NAME.pid.
launch() {
  local name=$1; shift
  "$@" </dev/null >>"$dir/log/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}
launch memcached memcached -u "$(id -un)" -l 127.0.0.1 -p "$mc_port" -U 0 -m 64
launch account swift-account-server "$etc/account-server.conf" -v
launch container swift-container-server "$etc/container-server.conf" -v
launch object swift-object-server "$etc/object-server.conf" -v
launch proxy swift-proxy-server "$etc/proxy-server.conf" -v
launch container-updater swift-container-updater "$etc/container-server.conf" -v
launch object-updater swift-object-updater "$etc/object-server.conf" -v
launch object-expirer swift-object-expirer "$etc/object-expirer.conf" -v

cat >"$dir/restart-proxy.sh" <<SH
#!/usr/bin/env bash
# Restarts the proxy alone: stop it and its worker (with the signal given, -TERM by
# default; -KILL for a crash), wait until both are gone, start it again.
set -euo pipefail
sig=\${1:--TERM}
pid=\$(cat "$dir/proxy.pid")
pids="\$(pgrep -P "\$pid" || true) \$pid"
kill "\$sig" \$pids 2>/dev/null || true
for p in \$pids; do
  for _ in \$(seq 1 200); do kill -0 "\$p" 2>/dev/null || break; sleep 0.05; done
done
swift-proxy-server "$etc/proxy-server.conf" -v </dev/null >>"$dir/log/proxy.log" 2>&1 &
echo \$! >"$dir/proxy.pid"
SH
chmod +x "$dir/restart-proxy.sh"

auth_url="http://127.0.0.1:$proxy_port/auth/v1.0"
ready() {
  curl -sf "http://127.0.0.1:$proxy_port/healthcheck" >/dev/null 2>&1 &&
    curl -sf -o /dev/null "$auth_url" -H 'X-Auth-User: admin:admin' -H 'X-Auth-Key: admin' >/dev/null 2>&1 &&
    swift -A "$auth_url" -U admin:admin -K admin stat >/dev/null 2>&1
}
for _ in $(seq 1 300); do
  ready && break
  for p in memcached account container object proxy; do
    kill -0 "$(cat "$dir/$p.pid")" 2>/dev/null || die "$p exited"
  done
  sleep 0.1
done
ready || die "Swift not ready after 30 s"
t1=$(date +%s.%N)

cat >"$dir/env" <<ENV
SWIFT_AUTH_URL=$auth_url
SWIFT_USER=admin:admin
SWIFT_KEY=admin
SWIFT_PROXY_PORT=$proxy_port
SWIFT_PROXY_CONF=$etc/proxy-server.conf
SWIFT_RESTART_PROXY=$dir/restart-proxy.sh
ST_AUTH=$auth_url
ST_USER=admin:admin
ST_KEY=admin
STARTUP_SECONDS=$(/usr/bin/python3 -c "print(round($t1 - $t0, 1))")
ENV

if [ -n "$watch" ]; then
  (
    while kill -0 "$watch" 2>/dev/null; do sleep 1; done
    "$here/stop.sh" "$dir" >/dev/null 2>&1
    # A harness that owns DIR asks for it to go too.
    [ ! -e "$dir/.remove-on-exit" ] || rm -rf "$dir"
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/watchdog.pid.keep"
fi
echo "start.sh: Swift ready at $auth_url in $(grep STARTUP_SECONDS "$dir/env" | cut -d= -f2) s" >&2
