#!/usr/bin/env bash
# Starts a private OpenStack test stack from Debian 12's packages, everything on 127.0.0.1 (free
# ports) and under DIR, for the OpenStack protection plugins' integration tests:
#   MariaDB + Keystone   tests/keystone/start.sh DIR/keystone (user admin, region RegionOne)
#   RabbitMQ             own epmd, node, distribution port and data under DIR/rabbitmq
#   Glance               glance-api, file store in DIR/glance/images
#   Placement            placement-api under uwsgi
#   Cinder               api, scheduler, volume (NFS driver over a bind-mounted local directory,
#                        snapshots on), backup (posix driver, DIR/cinder/backups)
#   Nova                 api, conductor, scheduler, compute (fake virt driver, see pouch_fake_virt.py),
#                        cell0 + cell1, host discovered; sends a service token to Cinder
#   Neutron              neutron-server, ML2 (flat, vlan, vxlan), router service plugin, no agents;
#                        ports bind through pouch_fake_mech.py so Nova's servers boot
# plus users and endpoints in Keystone, a demo project and user (role member), a flavor and an
# image for servers.
# Usage: start.sh DIR [WATCH_PID]
#   DIR        an empty or new directory; everything lives there (stop.sh DIR removes nothing)
#   WATCH_PID  if given, a watchdog runs stop.sh DIR once that process is gone
# On success it writes DIR/env (KEY=VALUE lines; `set -a; . DIR/env; set +a` to use them; see
# README.md for the keys) and the PIDs in DIR/*.pid for stop.sh. On failure it prints the end of
# the relevant log, stops what it started and exits non-zero.
# Knobs (environment): POUCH_OS_TIMEOUT (seconds to wait for all APIs, default 240),
#   POUCH_NOVA_DRIVER (default pouch_fake_virt.PouchFakeDriver; fake.FakeDriver for Nova's own).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: start.sh DIR [WATCH_PID]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
watch=${2:-}
timeout=${POUCH_OS_TIMEOUT:-240}
nova_driver=${POUCH_NOVA_DRIVER:-pouch_fake_virt.PouchFakeDriver}
t0=$(date +%s.%N)
logs="$dir/log"
py=/usr/bin/python3
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
export PYTHONDONTWRITEBYTECODE=1 XDG_CACHE_HOME="$dir/cache"

pids=()
names=()
ks_job=
die() {
  local msg=$1 p
  shift
  echo "start.sh: $msg" >&2
  for p in "${pids[@]}" $ks_job; do kill -TERM "$p" 2>/dev/null; done
  for f in "$@"; do
    [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 40 "$f" >&2; }
  done
  "$here/stop.sh" "$dir" >&2 || true
  exit 1
}

for cmd in rabbitmq-server epmd glance-api glance-manage placement-manage cinder-api cinder-manage \
  cinder-scheduler cinder-volume cinder-backup nova-api nova-manage nova-conductor nova-scheduler \
  nova-compute neutron-server neutron-db-manage uwsgi mount.nfs qemu-img sudo mariadb mountpoint; do
  command -v "$cmd" >/dev/null || { echo "start.sh: $cmd not found; run tests/openstack/setup.sh" >&2; exit 3; }
done
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || { echo "start.sh: rabbitmq-server missing; run tests/openstack/setup.sh" >&2; exit 3; }
[ "$(id -u)" -eq 0 ] || { echo "start.sh: must run as root (Cinder mounts its share, services run as root)" >&2; exit 3; }
[ -z "$(ls -A "$dir")" ] || { echo "start.sh: $dir is not empty: use a new or empty DIR" >&2; exit 2; }
mkdir -p "$logs" "$dir/cache"

# Free TCP ports on 127.0.0.1, distinct: rabbit, rabbit distribution, epmd, glance, placement,
# cinder, nova, neutron. The services bind them a minute later: pick them below the ephemeral
# range, where neither bind(0) nor outgoing connections (ours are many) take them meanwhile.
read -r p_rabbit p_dist p_epmd p_glance p_placement p_cinder p_nova p_neutron < <($py -c '
import random, socket
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except Exception:
    low = 32768
lo, hi = (20000, low) if low > 21000 else (low + 30000, 64000)
ports, held = [], []
while len(ports) < 8:
    p = random.randrange(lo, hi)
    if p in ports:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    held.append(s)
    ports.append(p)
print(" ".join(map(str, ports)))')

# alive NAME: the process in DIR/NAME.pid is running.
alive() { kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }
# run NAME CMD...: starts CMD in the background (stdout/stderr to log/NAME.out), PID in DIR/NAME.pid.
run() {
  local name=$1
  shift
  "$@" </dev/null >>"$logs/$name.out" 2>&1 &
  echo $! >"$dir/$name.pid"
}
watch_check() {
  if [ -n "$watch" ] && ! kill -0 "$watch" 2>/dev/null; then die "watched process $watch is gone"; fi
}
if [ -n "$watch" ]; then
  # Stops everything when the watched process (the test binary) is gone, even if it was killed.
  (
    trap '' INT HUP
    while kill -0 "$watch" 2>/dev/null; do sleep 1; done
    "$here/stop.sh" "$dir"
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/watchdog.pid"
fi

# --- RabbitMQ (starts while Keystone does) -------------------------------------------------------
secret() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
rabbit_password=$(secret)
rq="$dir/rabbitmq"
mkdir -p "$rq/mnesia" "$rq/log"
cat >"$rq/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$p_rabbit
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = $p_dist
distribution.listener.port_range.max = $p_dist
default_user = pouch
default_pass = $rabbit_password
loopback_users = none
vm_memory_high_watermark.absolute = 512MB
disk_free_limit.absolute = 50MB
log.console = false
log.file.level = info
CONF
echo '[].' >"$rq/enabled_plugins"
: >"$rq/rabbitmq-env.conf"
echo "epmd -address 127.0.0.1 -port $p_epmd" >"$dir/epmd.pattern"
run epmd epmd -address 127.0.0.1 -port "$p_epmd"
export_rabbit_env() {
  export HOME="$rq" ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$p_epmd \
    RABBITMQ_NODENAME="pouch-$p_rabbit@localhost" RABBITMQ_USE_LONGNAME=false \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$p_rabbit RABBITMQ_DIST_PORT=$p_dist \
    RABBITMQ_CONFIG_FILE="$rq/rabbitmq.conf" RABBITMQ_CONF_ENV_FILE="$rq/rabbitmq-env.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$rq/advanced.config" RABBITMQ_ENABLED_PLUGINS_FILE="$rq/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$rq/mnesia" RABBITMQ_LOG_BASE="$rq/log" RABBITMQ_PID_FILE="$rq/rabbitmq.pid" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none"
}
(
  # Wait for epmd so that erl does not start a system-wide one of its own.
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$p_epmd") 2>/dev/null && break; sleep 0.1; done
  export_rabbit_env
  exec /usr/lib/rabbitmq/bin/rabbitmq-server
) </dev/null >>"$logs/rabbitmq.out" 2>&1 &
echo $! >"$dir/rabbitmq.pid"
# That process is rabbitmq-server's wrapper script (it turns SIGTERM into a clean stop of the node).
echo "rabbitmq-server" >"$dir/rabbitmq.pattern"
transport="rabbit://pouch:$rabbit_password@127.0.0.1:$p_rabbit/"

# --- MariaDB + Keystone -----------------------------------------------------------------------
# tests/keystone/start.sh runs in the background: once its MariaDB answers, the service databases
# are created and migrated while Keystone bootstraps. Keystone's URL is not known before it is
# ready: the configuration files carry a placeholder until then.
"$here/../keystone/start.sh" "$dir/keystone" </dev/null >"$logs/keystone-start.log" 2>&1 &
ks_job=$!
mysql_sock="$dir/keystone/mysql.sock"
for _ in $(seq 1 1200); do
  [ -S "$mysql_sock" ] && mariadb-admin --no-defaults --socket="$mysql_sock" -uroot ping >/dev/null 2>&1 && break
  kill -0 "$ks_job" 2>/dev/null || { wait "$ks_job" || true; ks_job=; die "tests/keystone/start.sh failed" "$logs/keystone-start.log"; }
  sleep 0.1
done
mysql_port=$(mariadb --no-defaults --socket="$mysql_sock" -uroot -N -e 'SELECT @@port' 2>/dev/null) ||
  die "MariaDB of tests/keystone/start.sh not ready after 2 minutes" "$logs/keystone-start.log" "$dir/keystone/mysql.err"
db_password=$(secret)
# Migrations are DDL-heavy: no flush per commit for this throw-away server.
mariadb --no-defaults --socket="$mysql_sock" -uroot <<SQL || die "cannot create the service databases" "$dir/keystone/mysql.err"
SET GLOBAL innodb_flush_log_at_trx_commit = 0;
CREATE USER 'openstack'@'127.0.0.1' IDENTIFIED BY '$db_password';
CREATE DATABASE glance; GRANT ALL PRIVILEGES ON glance.* TO 'openstack'@'127.0.0.1';
CREATE DATABASE placement; GRANT ALL PRIVILEGES ON placement.* TO 'openstack'@'127.0.0.1';
CREATE DATABASE cinder; GRANT ALL PRIVILEGES ON cinder.* TO 'openstack'@'127.0.0.1';
CREATE DATABASE nova_api; GRANT ALL PRIVILEGES ON nova_api.* TO 'openstack'@'127.0.0.1';
CREATE DATABASE nova; GRANT ALL PRIVILEGES ON nova.* TO 'openstack'@'127.0.0.1';
CREATE DATABASE nova_cell0; GRANT ALL PRIVILEGES ON nova_cell0.* TO 'openstack'@'127.0.0.1';
CREATE DATABASE neutron; GRANT ALL PRIVILEGES ON neutron.* TO 'openstack'@'127.0.0.1';
SQL
t_mysql=$(date +%s.%N)
ks_url=@KEYSTONE_URL@
db() { echo "mysql+pymysql://openstack:$db_password@127.0.0.1:$mysql_port/$1?charset=utf8"; }

# --- Configuration ------------------------------------------------------------------------------
for s in glance cinder nova placement neutron; do
  declare "pw_$s=$(secret)"
  export "PW_${s^^}=$(eval echo "\$pw_$s")"
done
demo_password=$(secret)
glance_url="http://127.0.0.1:$p_glance"
placement_url="http://127.0.0.1:$p_placement"
cinder_url="http://127.0.0.1:$p_cinder/v3"
nova_url="http://127.0.0.1:$p_nova/v2.1"
neutron_url="http://127.0.0.1:$p_neutron"
host=pouch

# authtoken USER PASSWORD: the keystone_authtoken section of a service.
authtoken() {
  cat <<CONF
[keystone_authtoken]
www_authenticate_uri = $ks_url
auth_url = $ks_url
auth_type = password
username = $1
password = $2
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne
service_token_roles = service
service_token_roles_required = true
CONF
}
# client SECTION USER PASSWORD: a keystoneauth client section (service-to-service calls).
client() {
  cat <<CONF
[$1]
auth_type = password
auth_url = $ks_url
username = $2
password = $3
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne
CONF
}
common() { # common STATE_DIR: the sections every service shares
  cat <<CONF
[oslo_concurrency]
lock_path = $1/lock
[oslo_policy]
policy_file = $1/policy.yaml
CONF
}
for s in glance cinder nova placement neutron; do
  mkdir -p "$dir/$s/lock"
  : >"$dir/$s/policy.yaml"  # the in-code default policies, whatever /etc/$s/policy.d says
done

# Glance
mkdir -p "$dir/glance/images" "$dir/glance/staging" "$dir/glance/cache"
glance_conf="$dir/glance/glance-api.conf"
{
  cat <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $p_glance
workers = 1
use_stderr = false
image_cache_dir = $dir/glance/cache
node_staging_uri = file://$dir/glance/staging
[database]
connection = $(db glance)
max_pool_size = 5
max_overflow = 10
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $dir/glance/images/
CONF
  authtoken glance "$pw_glance"
  common "$dir/glance"
} >"$glance_conf"

# Placement (placement-api reads OS_PLACEMENT_CONFIG_DIR/placement.conf)
placement_conf="$dir/placement/placement.conf"
{
  cat <<CONF
[DEFAULT]
log_file = $logs/placement.log
use_stderr = false
[api]
auth_strategy = keystone
[placement_database]
connection = $(db placement)
max_pool_size = 5
max_overflow = 10
CONF
  authtoken placement "$pw_placement"
  common "$dir/placement"
} >"$placement_conf"

# Cinder: the NFS driver needs its share "mounted"; a bind mount of a local directory on the
# mount point it computes (base/md5(share)) is enough, it then never runs mount.nfs.
share="127.0.0.1:$dir/cinder/export"
share_mnt="$dir/cinder/mnt/$(printf %s "$share" | md5sum | cut -d' ' -f1)"
mkdir -p "$dir/cinder/export" "$share_mnt" "$dir/cinder/backups" "$dir/cinder/state" "$dir/cinder/coordination"
echo "$share" >"$dir/cinder/nfs_shares"
cinder_conf="$dir/cinder/cinder.conf"
{
  cat <<CONF
[DEFAULT]
host = $host
my_ip = 127.0.0.1
state_path = $dir/cinder/state
use_stderr = false
transport_url = $transport
auth_strategy = keystone
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = $p_cinder
osapi_volume_workers = 1
api_paste_config = /etc/cinder/api-paste.ini
rootwrap_config = /etc/cinder/rootwrap.conf
enabled_backends = nfs
backup_driver = cinder.backup.drivers.posix.PosixBackupDriver
backup_posix_path = $dir/cinder/backups
backup_workers = 1
# 32 MiB chunks (the default is one 1.9 GB chunk: a whole volume in memory per backup).
backup_file_size = 33554432
# Report volume stats often, so that the scheduler knows the pool soon after start.
backend_stats_polling_interval = 10
periodic_interval = 10
# Room for test suites that keep their resources for a while (defaults: 10 each).
quota_volumes = 100
quota_snapshots = 100
quota_backups = 100
[database]
connection = $(db cinder)
max_pool_size = 5
max_overflow = 10
[coordination]
backend_url = file://$dir/cinder/coordination
[nfs]
volume_driver = cinder.volume.drivers.nfs.NfsDriver
volume_backend_name = nfs
nfs_shares_config = $dir/cinder/nfs_shares
nfs_mount_point_base = $dir/cinder/mnt
nfs_sparsed_volumes = true
nfs_snapshot_support = true
nas_secure_file_operations = false
nas_secure_file_permissions = false
CONF
  authtoken cinder "$pw_cinder"
  client nova cinder "$pw_cinder"
  common "$dir/cinder"
} >"$cinder_conf"

# Nova
mkdir -p "$dir/nova/state" "$dir/nova/instances"
nova_conf="$dir/nova/nova.conf"
{
  cat <<CONF
[DEFAULT]
host = $host
my_ip = 127.0.0.1
state_path = $dir/nova/state
instances_path = $dir/nova/instances
use_stderr = false
transport_url = $transport
compute_driver = $nova_driver
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = $p_nova
osapi_compute_workers = 1
allow_resize_to_same_host = true
# Report resources often so that placement learns the node soon after start.
update_resources_interval = 10
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
[api_database]
connection = $(db nova_api)
max_pool_size = 5
max_overflow = 10
[database]
connection = $(db nova)
max_pool_size = 5
max_overflow = 10
[quota]
instances = 100
cores = 200
ram = 204800
[conductor]
workers = 1
[scheduler]
workers = 1
# The scheduler maps new compute hosts to cell1 itself (what nova-manage cell_v2 discover_hosts
# does, without another heavy process), also after a test restarts nova-compute.
discover_hosts_in_cells_interval = 5
[vnc]
enabled = false
[spice]
enabled = false
[libvirt]
# Only pouch_fake_virt reads it: where Cinder's NFS share is mounted (for assisted snapshots).
nfs_mount_point_base = $dir/cinder/mnt
[service_user]
send_service_user_token = true
auth_type = password
auth_url = $ks_url
username = nova
password = $pw_nova
project_name = service
user_domain_name = Default
project_domain_name = Default
[cinder]
os_region_name = RegionOne
catalog_info = volumev3:cinderv3:publicURL
auth_type = password
auth_url = $ks_url
username = nova
password = $pw_nova
project_name = service
user_domain_name = Default
project_domain_name = Default
CONF
  authtoken nova "$pw_nova"
  client placement nova "$pw_nova"
  echo "valid_interfaces = public"
  client neutron nova "$pw_nova"
  echo "valid_interfaces = public"
  client glance nova "$pw_nova"
  echo "valid_interfaces = public"
  common "$dir/nova"
} >"$nova_conf"

# Neutron, with the agent-less mechanism driver on its PYTHONPATH as an entry point.
pylib="$dir/pylib"
mkdir -p "$pylib/pouch_fake_mech-1.0.dist-info" "$dir/neutron/state"
cp "$here/pouch_fake_mech.py" "$here/pouch_fake_virt.py" "$pylib/"
# Nova loads compute drivers from nova.virt only: map nova.virt.pouch_fake_virt to the file above
# (usercustomize runs at interpreter start, for the processes with $pylib on PYTHONPATH).
cat >"$pylib/usercustomize.py" <<'PY'
import importlib.abc
import importlib.util
import os
import sys


class _PouchFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "nova.virt.pouch_fake_virt":
            return importlib.util.spec_from_file_location(
                name, os.path.join(os.path.dirname(os.path.abspath(__file__)), "pouch_fake_virt.py"))
        return None


sys.meta_path.insert(0, _PouchFinder())
PY
printf 'Metadata-Version: 2.1\nName: pouch-fake-mech\nVersion: 1.0\n' >"$pylib/pouch_fake_mech-1.0.dist-info/METADATA"
printf '[neutron.ml2.mechanism_drivers]\npouch_fake = pouch_fake_mech:PouchFakeMechanismDriver\n' \
  >"$pylib/pouch_fake_mech-1.0.dist-info/entry_points.txt"
neutron_conf="$dir/neutron/neutron.conf"
{
  cat <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $p_neutron
state_path = $dir/neutron/state
use_stderr = false
transport_url = $transport
auth_strategy = keystone
core_plugin = ml2
service_plugins = router
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 0
api_paste_config = /etc/neutron/api-paste.ini
allow_overlapping_ips = true
dhcp_agent_notification = false
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
[database]
connection = $(db neutron)
max_pool_size = 5
max_overflow = 10
[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = pouch_fake
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vlan]
network_vlan_ranges = physnet1:100:199
[ml2_type_vxlan]
vni_ranges = 1:10000
[securitygroup]
enable_security_group = true
firewall_driver = noop
CONF
  authtoken neutron "$pw_neutron"
  client nova neutron "$pw_neutron"
  common "$dir/neutron"
} >"$neutron_conf"

# --- Migrations (while Keystone bootstraps), then the services: one chain per service ------------
# step NAME CMD...: runs CMD with its output appended to log/NAME.log; false if it fails.
step() {
  local name=$1
  shift
  echo "+ $(date +%T.%N | cut -c1-12) $*" >>"$logs/$name.log"
  "$@" </dev/null >>"$logs/$name.log" 2>&1
}
go="$dir/.services-may-start"
await_go() { # in a chain: waits until Keystone has the service users and endpoints and RabbitMQ is up
  while [ ! -e "$go" ]; do
    kill -0 $$ 2>/dev/null || return 1
    sleep 0.2
  done
}
chain() { # chain NAME FUNCTION: runs FUNCTION in the background
  "$2" &
  pids+=($!)
  names+=("$1")
}
chain_glance() {
  step glance-manage glance-manage --config-file "$glance_conf" db_sync || return 1
  await_go || return 1
  run glance-api glance-api --config-file "$glance_conf" --log-file "$logs/glance-api.log"
}
chain_placement() {
  step placement-manage placement-manage --config-file "$placement_conf" db sync || return 1
  await_go || return 1
  OS_PLACEMENT_CONFIG_DIR="$dir/placement" run placement uwsgi --plugin python3 \
    --http-socket "127.0.0.1:$p_placement" --wsgi-file /usr/bin/placement-api --master --processes 1 \
    --threads 4 --enable-threads --lazy-apps --need-app --die-on-term --no-orphans --buffer-size 65535 \
    --add-header "Connection: close" --chdir "$dir/placement" --logto "$logs/placement-uwsgi.log"
}
chain_cinder() {
  step cinder-manage cinder-manage --config-file "$cinder_conf" db sync || return 1
  await_go || return 1
  local b
  for b in api scheduler volume backup; do
    run "cinder-$b" "cinder-$b" --config-file "$cinder_conf" --log-file "$logs/cinder-$b.log"
  done
}
chain_nova() {
  # nova-manage api_db sync; cell_v2 map_cell0; cell_v2 create_cell --name cell1; db sync
  step nova-manage $py "$here/stack.py" nova-db "$nova_conf" "$(db nova_cell0)" || return 1
  await_go || return 1
  local b
  for b in conductor scheduler api; do
    run "nova-$b" "nova-$b" --config-file "$nova_conf" --log-file "$logs/nova-$b.log"
  done
}
chain_neutron() {
  step neutron-db-manage neutron-db-manage --config-file "$neutron_conf" upgrade heads || return 1
  await_go || return 1
  PYTHONPATH="$pylib" run neutron-server neutron-server --config-file "$neutron_conf" \
    --log-file "$logs/neutron-server.log"
}
mountpoint -q "$share_mnt" || mount --bind "$dir/cinder/export" "$share_mnt" || die "cannot bind-mount Cinder's share on $share_mnt"
echo "$share_mnt" >"$dir/mounts"
chain neutron-db-manage chain_neutron
chain nova-manage chain_nova
chain cinder-manage chain_cinder
chain glance-manage chain_glance
chain placement-manage chain_placement

# Keystone ready: fill in its URL, create the service users, endpoints and the demo project.
wait "$ks_job" || { ks_job=; die "tests/keystone/start.sh failed" "$logs/keystone-start.log"; }
ks_job=
t_keystone=$(date +%s.%N)
ks_env() { sed -n "s/^$1=//p" "$dir/keystone/env"; }
ks_url=$(ks_env KEYSTONE_URL)
admin_password=$(ks_env ADMIN_PASSWORD)
sed -i "s|@KEYSTONE_URL@|$ks_url|g" "$glance_conf" "$placement_conf" "$cinder_conf" "$nova_conf" "$neutron_conf"
export OS_AUTH_URL="$ks_url" OS_USERNAME=admin OS_PASSWORD="$admin_password" OS_PROJECT_NAME=admin \
  OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_REGION_NAME=RegionOne OS_IDENTITY_API_VERSION=3 \
  OS_INTERFACE=public GLANCE_URL="$glance_url" PLACEMENT_URL="$placement_url" CINDER_URL="$cinder_url" \
  NOVA_URL="$nova_url" NEUTRON_URL="$neutron_url" DEMO_PROJECT=demo DEMO_USER=demo DEMO_PASSWORD="$demo_password"
ids=$($py "$here/stack.py" keystone "$dir/keystone/keystone.conf" 2>>"$logs/keystone-setup.log") ||
  die "cannot create the service users and endpoints in Keystone" "$logs/keystone-setup.log" "$dir/keystone/keystone.log"
t_keystone_setup=$(date +%s.%N)

# RabbitMQ ready.
for _ in $(seq 1 1200); do
  (exec 3<>"/dev/tcp/127.0.0.1/$p_rabbit") 2>/dev/null && break
  alive rabbitmq || die "RabbitMQ exited" "$logs/rabbitmq.out" "$(ls "$rq"/log/*.log 2>/dev/null | head -n1)"
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$p_rabbit") 2>/dev/null || die "RabbitMQ not listening after 2 minutes" "$logs/rabbitmq.out" "$(ls "$rq"/log/*.log 2>/dev/null | head -n1)"
t_rabbit=$(date +%s.%N)
touch "$go"

for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || die "${names[$i]} failed" "$logs/${names[$i]}.log"
done
pids=()
watch_check
t_sync=$(date +%s.%N)
# nova-compute last: it needs the conductor, placement and its Keystone user to register at once.
PYTHONPATH="$pylib" run nova-compute nova-compute --config-file "$nova_conf" --log-file "$logs/nova-compute.log"

# --- Ready ------------------------------------------------------------------------------------
check_services() { # the started services are all still running
  local s
  for s in glance-api placement cinder-api cinder-scheduler cinder-volume cinder-backup nova-api \
    nova-conductor nova-scheduler nova-compute neutron-server rabbitmq epmd; do
    alive "$s" || die "$s exited" "$logs/$s.out" "$logs/$s.log" "$logs/placement-uwsgi.log"
  done
}
remaining() { $py -c "import time; print(max(5, int($timeout - (time.time() - $t0))))"; }
wait_ready() { # wait_ready NAME...: stack.py wait, with the logs of what is not ready on failure
  local left
  if ! left=$($py "$here/stack.py" wait --timeout "$(remaining)" "$@" 2>>"$logs/ready.log"); then
    check_services
    local f=()
    case "$left" in *glance*) f+=("$logs/glance-api.log") ;; esac
    case "$left" in *placement*) f+=("$logs/placement.log" "$logs/placement-uwsgi.log") ;; esac
    case "$left" in *cinder*) f+=("$logs/cinder-volume.log" "$logs/cinder-backup.log" "$logs/cinder-scheduler.log" "$logs/cinder-api.log") ;; esac
    case "$left" in *nova*|*compute*) f+=("$logs/nova-compute.log" "$logs/nova-conductor.log" "$logs/nova-api.log") ;; esac
    case "$left" in *neutron*) f+=("$logs/neutron-server.log") ;; esac
    die "not ready within ${timeout} s: $left" "$logs/ready.log" "${f[@]}"
  fi
}
check_services
wait_ready glance placement neutron nova-api nova cinder
check_services
post=$($py "$here/stack.py" post 2>>"$logs/ready.log") || die "cannot create the test flavor and image" "$logs/ready.log"
t1=$(date +%s.%N)
watch_check

secs() { $py -c "print(round($2 - $1, 1))"; }
cat >"$dir/env" <<ENV
OS_AUTH_URL=$ks_url
OS_IDENTITY_API_VERSION=3
OS_USERNAME=admin
OS_PASSWORD=$admin_password
OS_PROJECT_NAME=admin
OS_USER_DOMAIN_NAME=Default
OS_PROJECT_DOMAIN_NAME=Default
OS_REGION_NAME=RegionOne
OS_INTERFACE=public
KEYSTONE_URL=$ks_url
GLANCE_URL=$glance_url
PLACEMENT_URL=$placement_url
CINDER_URL=$cinder_url
NOVA_URL=$nova_url
NEUTRON_URL=$neutron_url
DEMO_PROJECT=demo
DEMO_USER=demo
DEMO_PASSWORD=$demo_password
DEMO_ROLE=member
$ids
$post
COMPUTE_HOST=$host
CINDER_HOST=$host@nfs#nfs
CINDER_BACKUP_DIR=$dir/cinder/backups
CINDER_SHARE_DIR=$dir/cinder/export
GLANCE_STORE_DIR=$dir/glance/images
NOVA_DRIVER=$nova_driver
MYSQL_PORT=$mysql_port
MYSQL_SOCKET=$mysql_sock
RABBITMQ_PORT=$p_rabbit
LOG_DIR=$logs
STARTUP_SECONDS=$(secs "$t0" "$t1")
MARIADB_SECONDS=$(secs "$t0" "$t_mysql")
KEYSTONE_SECONDS=$(secs "$t0" "$t_keystone")
KEYSTONE_SETUP_SECONDS=$(secs "$t_keystone" "$t_keystone_setup")
RABBITMQ_SECONDS=$(secs "$t0" "$t_rabbit")
DBSYNC_SECONDS=$(secs "$t_mysql" "$t_sync")
SERVICES_SECONDS=$(secs "$t_sync" "$t1")
MARIADB_UP=1
KEYSTONE_UP=1
RABBITMQ_UP=1
GLANCE_UP=1
PLACEMENT_UP=1
CINDER_UP=1
CINDER_VOLUME_UP=1
CINDER_BACKUP_UP=1
NOVA_UP=1
NOVA_COMPUTE_UP=1
NEUTRON_UP=1
ENV
echo "start.sh: OpenStack (Keystone, Glance, Placement, Cinder, Nova, Neutron) ready in $(secs "$t0" "$t1") s under $dir" >&2
