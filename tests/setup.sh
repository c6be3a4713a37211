#!/usr/bin/env bash
# Installs what the tests need on Debian 12, from Debian's packages:
#   redis-server                 the engine's and the API's state (tests start their own)
#   keystone mariadb-server      the Keystone suite (tests/keystone starts its own on 127.0.0.1)
#   python3-karborclient         the CLI suite (tests/cli drives `karbor` and
#   python3-openstackclient      `openstack data protection ...`)
#   swift swift-proxy swift-object swift-object-expirer swift-container swift-account memcached
#   python3-swiftclient          the Swift bank's suite (tests/swift starts its own all-in-one)
# and then tests/openstack/setup.sh: Glance, Cinder, Nova, Neutron, Placement,
# RabbitMQ for the OpenStack plugins' suite (tests/openstack).
# As root it installs with apt-get, with a policy-rc.d that keeps the
# packages from starting system services; otherwise it says what to run.
# Idempotent and quick when all is there.
set -euo pipefail

pkgs=(redis-server git keystone mariadb-server python3-karborclient python3-openstackclient uwsgi-plugin-python3
  swift swift-proxy swift-object swift-object-expirer swift-container swift-account python3-swiftclient memcached)
need=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done

openstack="$(dirname "$0")/openstack/setup.sh"
if [ ${#need[@]} -eq 0 ]; then
  exec "$openstack"
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/setup.sh: missing ${need[*]}; run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "tests/setup.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Keep the packages from starting system services: the tests start their own.
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
trap '[ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
# Wait for another apt run rather than fail on its lock.
apt-get -o DPkg::Lock::Timeout=900 update -qq
apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
"$openstack"
