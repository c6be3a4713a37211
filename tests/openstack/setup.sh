#!/usr/bin/env bash
# Installs what tests/openstack/start.sh needs on Debian 12, from Debian's packages:
#   keystone mariadb-server uwsgi-plugin-python3   Keystone and the shared MariaDB (tests/keystone/start.sh)
#   rabbitmq-server                                Cinder's and Nova's messaging
#   glance                                         images, file store
#   cinder-api cinder-scheduler cinder-volume cinder-backup, nfs-common (mount.nfs: the NFS driver
#                                                  refuses to start without it, even over a local tmpfs)
#   placement-api                                  Nova's resource inventory
#   nova-api nova-conductor nova-scheduler nova-compute nova-compute-ironic
#                                                  nova-compute-ironic provides the "hypervisor" nova-compute
#                                                  depends on, so libvirt and qemu are not pulled in; the stack
#                                                  runs compute_driver = fake.FakeDriver
#   neutron-server                                 networks, subnets, routers and ports (ML2, no agents)
#   python3-openstackclient                        the smoke test and the tests' setup
# As root it installs with apt-get (--no-install-recommends), with a policy-rc.d that keeps the packages
# from starting system services; whatever a maintainer script starts anyway (epmd, rabbitmq, ...)
# is stopped again, by PID. Otherwise it says what to run. Idempotent, and quick when all is there.
# Usage: setup.sh
set -euo pipefail

pkgs=(
  keystone mariadb-server uwsgi-plugin-python3 python3-openstackclient
  rabbitmq-server
  glance
  cinder-api cinder-scheduler cinder-volume cinder-backup nfs-common
  placement-api
  nova-api nova-conductor nova-scheduler nova-compute nova-compute-ironic
  neutron-server
)

installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q "install ok installed"; }
need=()
for p in "${pkgs[@]}"; do
  installed "$p" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "tests/openstack/setup.sh: missing ${need[*]}; run as root: tests/openstack/setup.sh" >&2
  echo "  (or: sudo apt-get install -y --no-install-recommends ${need[*]})" >&2
  exit 1
fi

echo "tests/openstack/setup.sh: installing ${need[*]}" >&2
t0=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
trap '[ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT

# What ran and what was installed before: afterwards, a process that is new and whose executable
# belongs to a package this run installed was started by the install.
pids_before=" $(ls /proc | grep -E '^[0-9]+$' | tr '\n' ' ') "
pkgs_before=$(dpkg-query -W -f='${binary:Package} ${Status}\n' 2>/dev/null | awk '$NF == "installed" {print $1}' | sed 's/:.*//' | sort -u)

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

pkgs_after=$(dpkg-query -W -f='${binary:Package} ${Status}\n' 2>/dev/null | awk '$NF == "installed" {print $1}' | sed 's/:.*//' | sort -u)
new_pkgs=" $(comm -13 <(echo "$pkgs_before") <(echo "$pkgs_after") | tr '\n' ' ') "

# Stop what the maintainer scripts started (rabbitmq's postinst runs epmd, for instance).
stray=()
for pid in $(ls /proc | grep -E '^[0-9]+$'); do
  case "$pids_before" in *" $pid "*) continue ;; esac
  [ "$pid" = $$ ] && continue
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
  owner=$(dpkg-query -S "$exe" 2>/dev/null | head -n1 | cut -d: -f1) || continue
  [ -n "$owner" ] || continue
  case "$new_pkgs" in *" $owner "*) stray+=("$pid") ;; esac
done
if [ ${#stray[@]} -gt 0 ]; then
  for pid in "${stray[@]}"; do
    echo "tests/openstack/setup.sh: stopping $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-100) (PID $pid), started by the install" >&2
    kill -TERM "$pid" 2>/dev/null || true
  done
  sleep 2
  for pid in "${stray[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  done
fi
echo "tests/openstack/setup.sh: installed in $(($(date +%s) - t0)) s" >&2
