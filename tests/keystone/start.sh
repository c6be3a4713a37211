#!/usr/bin/env bash
# Starts a private Keystone for the tests, everything on 127.0.0.1 and under DIR:
#   MariaDB (mariadbd, own datadir, socket and a free port) holding Keystone's database,
#   Keystone 22 served by uwsgi on a free port, fernet and credential keys in DIR,
#   bootstrapped with user admin (role admin on project admin, which is Keystone's admin
#   project), region RegionOne and the identity endpoint.
# Usage: start.sh DIR [WATCH_PID]
#   DIR        an empty or new directory; everything lives there (stop.sh DIR removes nothing)
#   WATCH_PID  if given, a watchdog stops the services once that process is gone
# On success it writes DIR/env (KEY=VALUE lines, `set -a; . DIR/env` to use them):
#   KEYSTONE_URL, ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT, DOMAIN, MYSQL_PORT, MYSQL_SOCKET,
#   KEYSTONE_PORT, STARTUP_SECONDS, and OS_* for the openstack CLI,
# and the PIDs in DIR/*.pid for stop.sh. On failure it stops what it started, prints the
# end of the logs and exits non-zero. Projects and users beyond admin are the caller's job.
set -euo pipefail

die() {
  echo "start.sh: $*" >&2
  for f in "$dir"/mysql.err "$dir"/uwsgi.log "$dir"/keystone.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
  done
  "$here/stop.sh" "$dir" >&2 || true
  exit 1
}

[ $# -ge 1 ] || { echo "usage: start.sh DIR [WATCH_PID]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
watch=${2:-}
t0=$(date +%s.%N)

for cmd in mariadbd mariadb-install-db mariadb mariadb-admin uwsgi keystone-manage /usr/bin/python3; do
  command -v "$cmd" >/dev/null || { echo "start.sh: $cmd not found; run tests/setup.sh" >&2; exit 3; }
done
[ -f /usr/lib/uwsgi/plugins/python3_plugin.so ] || { echo "start.sh: uwsgi's python3 plugin is missing; run tests/setup.sh" >&2; exit 3; }

# free_port prints a TCP port free on 127.0.0.1 now.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# status URL [JSON]: the HTTP status of a GET of URL (a POST of JSON if given), 000 if none.
status() {
  /usr/bin/python3 -c '
import sys, urllib.request, urllib.error
data = sys.argv[2].encode() if len(sys.argv) > 2 else None
req = urllib.request.Request(sys.argv[1], data=data, headers={"Content-Type": "application/json"})
try:
    print(urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
' "$@"
}
secret() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
me=$(id -un)
group=$(id -gn)

# --- MariaDB -------------------------------------------------------------------------------
mkdir -p "$dir/mysql" "$dir/tmp"
sock="$dir/mysql.sock"
mysql_port=$(free_port)
mariadb-install-db --no-defaults --user="$me" --datadir="$dir/mysql" --auth-root-authentication-method=socket \
  --skip-test-db >"$dir/install-db.log" 2>&1 || die "mariadb-install-db failed (see $dir/install-db.log)"
mariadbd --no-defaults --user="$me" --datadir="$dir/mysql" --socket="$sock" --port="$mysql_port" \
  --bind-address=127.0.0.1 --pid-file="$dir/mysql.pid.mariadb" --log-error="$dir/mysql.err" --tmpdir="$dir/tmp" \
  --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=64M --max-connections=300 \
  --character-set-server=utf8mb4 </dev/null >/dev/null 2>&1 &
echo $! >"$dir/mysql.pid"
for _ in $(seq 1 300); do
  mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 && break
  kill -0 "$(cat "$dir/mysql.pid")" 2>/dev/null || die "mariadbd exited"
  sleep 0.1
done
mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 || die "mariadbd not ready after 30 s"
db_password=$(secret)
mariadb --no-defaults --socket="$sock" -uroot <<SQL || die "cannot create Keystone's database"
CREATE DATABASE keystone;
CREATE USER 'keystone'@'127.0.0.1' IDENTIFIED BY '$db_password';
GRANT ALL PRIVILEGES ON keystone.* TO 'keystone'@'127.0.0.1';
SQL
t_db=$(date +%s.%N)

# --- Keystone ------------------------------------------------------------------------------
ks_port=$(free_port)
url="http://127.0.0.1:$ks_port/v3"
admin_password=$(secret)
conf="$dir/keystone.conf"
mkdir -p -m 700 "$dir/fernet-keys" "$dir/credential-keys"
cat >"$conf" <<CONF
[DEFAULT]
log_file = $dir/keystone.log
use_stderr = false
[database]
connection = mysql+pymysql://keystone:$db_password@127.0.0.1:$mysql_port/keystone
max_pool_size = 10
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = $dir/fernet-keys
[fernet_receipts]
key_repository = $dir/fernet-keys
[credential]
key_repository = $dir/credential-keys
[identity]
# bcrypt's minimum cost: test passwords need no strength, and each token costs one hash.
password_hash_rounds = 4
[resource]
admin_project_name = admin
admin_project_domain_name = Default
[cache]
enabled = false
[oslo_policy]
policy_file = $dir/keystone-policy.yaml
CONF
: >"$dir/keystone-policy.yaml"
km() { keystone-manage --config-file "$conf" "$@" >>"$dir/keystone-manage.log" 2>&1; }
# The key repositories do not need the database: set them up while db_sync runs.
km fernet_setup --keystone-user "$me" --keystone-group "$group" &
fernet=$!
km credential_setup --keystone-user "$me" --keystone-group "$group" &
credential=$!
km db_sync || die "keystone-manage db_sync failed (see $dir/keystone-manage.log)"
wait "$fernet" || die "keystone-manage fernet_setup failed (see $dir/keystone-manage.log)"
wait "$credential" || die "keystone-manage credential_setup failed (see $dir/keystone-manage.log)"
km bootstrap --bootstrap-password "$admin_password" --bootstrap-username admin \
  --bootstrap-project-name admin --bootstrap-role-name admin --bootstrap-region-id RegionOne \
  --bootstrap-public-url "$url/" --bootstrap-internal-url "$url/" --bootstrap-admin-url "$url/" \
  || die "keystone-manage bootstrap failed (see $dir/keystone-manage.log)"
t_bootstrap=$(date +%s.%N)

OS_KEYSTONE_CONFIG_FILES="$conf" uwsgi --plugin python3 --http-socket "127.0.0.1:$ks_port" \
  --wsgi-file /usr/bin/keystone-wsgi-public --master --processes 2 --threads 4 --enable-threads --lazy-apps \
  --need-app --die-on-term --no-orphans --buffer-size 65535 --add-header "Connection: close" \
  --chdir "$dir" --logto "$dir/uwsgi.log" </dev/null >/dev/null 2>&1 &
echo $! >"$dir/uwsgi.pid"
for _ in $(seq 1 600); do
  [ "$(status "$url")" = 200 ] && break
  kill -0 "$(cat "$dir/uwsgi.pid")" 2>/dev/null || die "uwsgi exited"
  sleep 0.1
done
[ "$(status "$url")" = 200 ] || die "Keystone not ready after a minute"
# Ready means a token can be issued (both workers may still be loading).
auth="{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"admin\",\"domain\":{\"name\":\"Default\"},\"password\":\"$admin_password\"}}},\"scope\":{\"project\":{\"name\":\"admin\",\"domain\":{\"name\":\"Default\"}}}}}"
code=$(status "$url/auth/tokens?nocatalog" "$auth")
[ "$code" = 201 ] || die "admin cannot get a token from Keystone: HTTP $code"
t1=$(date +%s.%N)

if [ -n "$watch" ]; then
  # Stops the services when the watched process (the test binary) is gone, even if it was killed.
  (
    trap '' INT HUP
    while kill -0 "$watch" 2>/dev/null; do sleep 1; done
    "$here/stop.sh" "$dir"
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/watchdog.pid"
fi

cat >"$dir/env" <<ENV
KEYSTONE_URL=$url
KEYSTONE_PORT=$ks_port
ADMIN_USER=admin
ADMIN_PASSWORD=$admin_password
ADMIN_PROJECT=admin
DOMAIN=Default
MYSQL_PORT=$mysql_port
MYSQL_SOCKET=$sock
STARTUP_SECONDS=$(/usr/bin/python3 -c "print(round($t1 - $t0, 2))")
MYSQL_SECONDS=$(/usr/bin/python3 -c "print(round($t_db - $t0, 2))")
BOOTSTRAP_SECONDS=$(/usr/bin/python3 -c "print(round($t_bootstrap - $t_db, 2))")
UWSGI_SECONDS=$(/usr/bin/python3 -c "print(round($t1 - $t_bootstrap, 2))")
OS_AUTH_URL=$url
OS_IDENTITY_API_VERSION=3
OS_USERNAME=admin
OS_PASSWORD=$admin_password
OS_PROJECT_NAME=admin
OS_USER_DOMAIN_NAME=Default
OS_PROJECT_DOMAIN_NAME=Default
ENV
echo "start.sh: Keystone at $url ready in $(/usr/bin/python3 -c "print(round($t1 - $t0, 2))") s (MariaDB on 127.0.0.1:$mysql_port)" >&2
