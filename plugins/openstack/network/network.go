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
// restore (Load, Topology.PortsOf, Topology.FloatingIPsOf).
//
// Bank objects, under /checkpoints/<cp>/resource-data/<project id>/:
//
//	status    protecting, then available (or error); deleted
//	metadata  the Topology, as JSON
//
// Provider file section [network_backup_plugin]: poll_interval and
// poll_timeout (seconds).
package network

import (
	"time"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// Section is the plugin's section of a provider file.
const Section = "network_backup_plugin"

// ParamPublicNetwork is the restore parameter naming the external network
// of restored routers' gateways.
const ParamPublicNetwork = "public_network_id"

// Plugin protects network topologies.
type Plugin struct{ openstack.Base }

var _ protection.Factory = New

// New builds the plugin from a provider file.
func New(cfg *conf.File) (protection.Plugin, error) {
	b, err := openstack.NewBase(cfg, Section, openstack.TypeNetwork, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &Plugin{Base: b}, nil
}

// Schemas: no options; the restore may name the public network.
func (p *Plugin) Schemas(string) protection.Schemas {
	list := func(title string) map[string]any {
		return map[string]any{"type": "array", "title": title, "items": map[string]any{"type": "object"}}
	}
	return protection.Schemas{
		Options: map[string]any{"title": "Network Protection Options", "type": "object", "properties": map[string]any{}},
		Restore: map[string]any{"title": "Network Restore Options", "type": "object", "properties": map[string]any{
			ParamPublicNetwork: map[string]any{"type": "string", "title": "Public Network ID",
				"description": "The external network of the restored routers' gateways"},
		}},
		SavedInfo: map[string]any{"title": "Network Protection Saved Info", "type": "object", "properties": map[string]any{
			"project_id":        map[string]any{"type": "string", "title": "Project"},
			"networks":          list("Networks"),
			"subnets":           list("Subnets"),
			"routers":           list("Routers"),
			"router_interfaces": list("Router interfaces"),
			"security_groups":   list("Security groups"),
			"ports":             list("Standalone ports"),
			"server_ports":      list("Servers' ports"),
			"floating_ips":      list("Floating IPs"),
		}},
	}
}

// Operation returns the hooks of op.
func (p *Plugin) Operation(op model.OperationType, _ model.Resource) (protection.Operation, error) {
	return openstack.InBank(protection.Operation{Main: p.protect}, protection.Operation{Main: p.restore}).Get(op)
}
