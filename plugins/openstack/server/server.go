package server

import (
	"time"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// Plugin is a scaffold being written: it has no operation yet.
type Plugin struct{ openstack.Base }

// New builds the plugin from a provider file.
func New(cfg *conf.File) (protection.Plugin, error) {
	b, err := openstack.NewBase(cfg, "nova_backup_protection_plugin", openstack.TypeServer, 15*time.Second)
	if err != nil {
		return nil, err
	}
	return &Plugin{Base: b}, nil
}

// Schemas are not written yet.
func (p *Plugin) Schemas(string) protection.Schemas { return protection.Schemas{} }

// Operation is not written yet.
func (p *Plugin) Operation(model.OperationType, model.Resource) (protection.Operation, error) {
	return protection.Operation{}, protection.ErrUnsupported
}
