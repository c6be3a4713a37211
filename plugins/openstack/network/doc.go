// Package network is the protection plugin of OS::Neutron::Network, a
// project's network topology (a pseudo-resource whose id is the project's,
// named "Network Topology").
//
// Protect saves, as one JSON object (Topology), the Neutron objects the
// project owns: networks (external ones are only referenced), subnets,
// routers with their interfaces and static routes, security groups with
// their rules, standalone ports, servers' ports and floating IPs.
//
// Restore recreates them in the project the restore acts in, in
// dependency order: security groups (the saved "default" group is the
// project's own default group, given the rules it lacks), networks,
// subnets (same CIDRs, gateways, pools, DNS servers, routes), routers (a
// gateway on the restore parameter public_network_id, else on the saved
// external network if it still exists), router interfaces at the saved
// addresses, standalone ports with the same fixed IPs and the new groups.
// Every saved id is mapped to its new object's in the restore's
// NewResources, where the server plugin (whose restore runs after this
// one) finds the networks, subnets, ports and groups of the servers it
// recreates; each network is reported in resources_status as
// "OS::Neutron::Network#<new id>". A retried attempt reuses what an earlier
// one created. Servers' ports and floating IPs are the server plugin's to
// restore; Load reads a saved topology.
//
// Bank objects, under /checkpoints/<cp>/resource-data/<project id>/:
//
//	status    protecting, then available (or error); deleted
//	metadata  the Topology, as JSON
//
// Provider file section [network_backup_plugin]: poll_interval and
// poll_timeout (seconds).
package network
