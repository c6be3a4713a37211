package server

import (
	"context"
	"errors"
	"time"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// Section is the plugin's section of a provider file.
const Section = "nova_backup_protection_plugin"

// Plugin protects Nova servers.
type Plugin struct{ openstack.Base }

var _ protection.Factory = New

// New builds the plugin from a provider file.
func New(cfg *conf.File) (protection.Plugin, error) {
	b, err := openstack.NewBase(cfg, Section, openstack.TypeServer, 15*time.Second)
	if err != nil {
		return nil, err
	}
	return &Plugin{Base: b}, nil
}

// Metadata is the server's definition, as protect saves it: Karbor's keys
// (resource_id, attach_metadata, boot_metadata, server_metadata) and what
// a restore needs besides.
type Metadata struct {
	ResourceID string `json:"resource_id"`
	Name       string `json:"name"`
	Flavor     Flavor `json:"flavor"`
	// AttachMetadata is keyed by volume id.
	AttachMetadata map[string]Attachment `json:"attach_metadata"`
	BootMetadata   BootMetadata          `json:"boot_metadata"`
	ServerMetadata ServerMetadata        `json:"server_metadata"`
	Ports          []Port                `json:"ports"`
}

// Flavor is the server's flavor; restore looks it up by id, then by name.
type Flavor struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	VCPUs int    `json:"vcpus,omitempty"`
	RAM   int    `json:"ram,omitempty"` // MiB
	Disk  int    `json:"disk,omitempty"`
}

// Attachment is an attached volume.
type Attachment struct {
	VolumeID     string `json:"volume_id"`
	ServerID     string `json:"server_id"`
	AttachmentID string `json:"attachment_id,omitempty"`
	Device       string `json:"device"`
	Bootable     bool   `json:"bootable"`
	// DeleteOnTermination is saved for information: a restored server
	// never deletes the volumes a restore made when it is deleted.
	DeleteOnTermination bool `json:"delete_on_termination"`
}

// Boot device types.
const (
	BootImage  = "image"
	BootVolume = "volume"
)

// BootMetadata says what the server boots from.
type BootMetadata struct {
	BootDeviceType     string      `json:"boot_device_type"` // BootImage or BootVolume
	BootImageID        string      `json:"boot_image_id,omitempty"`
	BootVolumeID       string      `json:"boot_volume_id,omitempty"`
	BootAttachMetadata *Attachment `json:"boot_attach_metadata,omitempty"`
}

// ServerMetadata is the rest of the server's definition.
type ServerMetadata struct {
	AvailabilityZone string            `json:"availability_zone"`
	Flavor           string            `json:"flavor"` // the flavor's id, as Karbor saves it
	KeyName          string            `json:"key_name,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	SecurityGroups   []SecurityGroup   `json:"security_groups"`
	Networks         []string          `json:"networks"`     // ids of the ports' networks
	FloatingIPs      []string          `json:"floating_ips"` // addresses
}

// SecurityGroup is a security group of the server's ports.
type SecurityGroup struct {
	Name string `json:"name"`
	ID   string `json:"id,omitempty"`
}

// Port is one of the server's Neutron ports.
type Port struct {
	ID             string       `json:"id"`
	Name           string       `json:"name,omitempty"`
	NetworkID      string       `json:"network_id"`
	MACAddress     string       `json:"mac_address"`
	FixedIPs       []FixedIP    `json:"fixed_ips"`
	SecurityGroups []string     `json:"security_groups"` // ids
	FloatingIPs    []FloatingIP `json:"floating_ips,omitempty"`
}

// FixedIP is an address of a port on a subnet.
type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// FloatingIP is a floating IP associated with a port.
type FloatingIP struct {
	Address   string `json:"floating_ip_address"`
	NetworkID string `json:"floating_network_id"`
	FixedIP   string `json:"fixed_ip_address,omitempty"`
}

// Schemas: options quiesce; restore restore_name, restore_net_id,
// restore_flavor_id; saved info as Karbor names it.
func (p *Plugin) Schemas(string) protection.Schemas {
	str := func(title, desc string) map[string]any {
		return map[string]any{"type": "string", "title": title, "description": desc}
	}
	obj := func(title, desc string) map[string]any {
		return map[string]any{"type": "object", "title": title, "description": desc}
	}
	return protection.Schemas{
		Options: map[string]any{"title": "Server Protection Options", "type": "object", "properties": map[string]any{
			"quiesce": map[string]any{"type": "boolean", "default": false, "title": "Quiesce",
				"description": "Pause the server while its volumes are snapshotted"},
		}, "required": []any{}},
		Restore: map[string]any{"title": "Server Protection Restore", "type": "object", "properties": map[string]any{
			"restore_name":      str("Restore Server Name", "The name of the restored server (default: the original's)"),
			"restore_net_id":    str("Restore Network Id", "The network to put the restored server's ports on"),
			"restore_flavor_id": str("Restore Flavor Id", "The flavor of the restored server"),
		}},
		SavedInfo: map[string]any{"title": "Server Protection Saved Info", "type": "object", "properties": map[string]any{
			"attach_metadata": obj("Attached Volume Metadata", "The devices of attached volumes"),
			"boot_metadata":   obj("Boot Metadata", "The boot device of the server"),
			"server_metadata": obj("Server Metadata", "The flavor, networks, security groups and more of the server"),
		}},
	}
}

// Operation returns the hooks of op.
func (p *Plugin) Operation(op model.OperationType, _ model.Resource) (protection.Operation, error) {
	ops := openstack.InBank(protection.Operation{PrepareBegin: p.pause, PrepareFinish: p.unpause, Main: p.protect},
		protection.Operation{Complete: p.restore})
	ops[model.OpDelete] = protection.Operation{Main: p.delete}
	return ops.Get(op)
}

// delete unpauses a server a protect that died left paused, then removes
// the saved definition.
func (p *Plugin) delete(ctx context.Context, hc *protection.HookContext) error {
	if err := p.unpause(ctx, hc); err != nil {
		hc.Log.WarnContext(ctx, "cannot unpause the server protect paused", "err", err)
	}
	return openstack.DeleteData(ctx, hc)
}

// isBankNotFound reports a missing bank object.
func isBankNotFound(err error) bool { return errors.Is(err, bank.ErrNotFound) }
