// Package openstacktest gives integration tests the OpenStack that
// tests/openstack/start.sh runs (Keystone, Glance, Cinder, Nova with a fake
// hypervisor, Neutron), started once per test binary, and clients of it
// acting as its admin or its demo user.
//
// POUCH_OPENSTACK_ENV=<DIR>/env uses a stack already running (started by
// hand with start.sh DIR) instead; POUCH_REQUIRE_OPENSTACK=1 turns a skip
// for missing packages into a failure.
package openstacktest
