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
