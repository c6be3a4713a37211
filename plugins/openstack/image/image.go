package image

import (
	"time"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// Section is the plugin's section of a provider file.
const Section = "image_backup_plugin"

// Limits and defaults of the configuration.
const (
	DefaultObjectSize = 64 << 20 // bytes of one data_<n> object
	ObjectSizeUnit    = 64 << 10 // Glance's own chunk: object sizes are multiples of it
	MaxObjectSize     = 1 << 30
	DefaultUploads    = 4
	MaxUploads        = 64
	DefaultPoll       = 10 * time.Second
)

// Plugin protects Glance images.
type Plugin struct {
	openstack.Base
	objectSize     int64
	uploads        int
	serverSnapshot bool
}

var (
	_ protection.Plugin      = (*Plugin)(nil)
	_ protection.CloudPlugin = (*Plugin)(nil)
	_ protection.Factory     = New
)

// New builds the plugin from a provider file.
func New(cfg *conf.File) (protection.Plugin, error) {
	b, err := openstack.NewBase(cfg, Section, openstack.TypeImage, DefaultPoll)
	if err != nil {
		return nil, err
	}
	p := &Plugin{Base: b}
	size, err := cfg.Int(Section, "backup_image_object_size", DefaultObjectSize)
	if err != nil {
		return nil, err
	}
	if size <= 0 || size%ObjectSizeUnit != 0 || size > MaxObjectSize {
		return nil, cfg.Errorf(Section, "backup_image_object_size",
			"must be a positive multiple of %d bytes (64 KiB) up to %d (1 GiB), got %d", ObjectSizeUnit, MaxObjectSize, size)
	}
	p.objectSize = int64(size)
	if p.uploads, err = cfg.Int(Section, "upload_concurrency", DefaultUploads); err != nil {
		return nil, err
	}
	if p.uploads < 1 || p.uploads > MaxUploads {
		return nil, cfg.Errorf(Section, "upload_concurrency", "must be between 1 and %d, got %d", MaxUploads, p.uploads)
	}
	if p.serverSnapshot, err = cfg.Bool(Section, "enable_server_snapshot", true); err != nil {
		return nil, err
	}
	return p, nil
}

// Metadata is what protect saves.
type Metadata struct {
	ResourceID    string        `json:"resource_id"`
	ServerID      string        `json:"server_id,omitempty"`
	BackupName    string        `json:"backup_name,omitempty"`
	ImageMetadata ImageMetadata `json:"image_metadata"`
	ChunksNum     int           `json:"chunks_num"`
	ChunkSize     int64         `json:"chunk_size"`
}

// ImageMetadata describes the protected image: what a restore creates the
// new one with, and the sums its bytes must have.
type ImageMetadata struct {
	Name            string            `json:"name"`
	DiskFormat      string            `json:"disk_format"`
	ContainerFormat string            `json:"container_format"`
	Checksum        string            `json:"checksum"` // MD5
	OSHashAlgo      string            `json:"os_hash_algo,omitempty"`
	OSHashValue     string            `json:"os_hash_value,omitempty"`
	Size            int64             `json:"size"`
	MinDisk         int               `json:"min_disk"`
	MinRAM          int               `json:"min_ram"`
	Visibility      string            `json:"visibility,omitempty"`
	Protected       bool              `json:"protected"`
	Tags            []string          `json:"tags,omitempty"`
	Properties      map[string]string `json:"properties,omitempty"` // the user's
}

// Schemas are Karbor's.
func (p *Plugin) Schemas(string) protection.Schemas {
	return protection.Schemas{
		Options: map[string]any{"title": "Image Protection Options", "type": "object", "properties": map[string]any{
			"backup_name": map[string]any{"type": "string", "title": "Backup Name", "description": "The name of the backup."},
		}, "required": []any{}},
		Restore: map[string]any{"title": "Image Protection Restore", "type": "object", "properties": map[string]any{
			"restore_name": map[string]any{"type": "string", "title": "Restore Image Name",
				"description": "The name of the restored image (default: the protected image's)."},
		}, "required": []any{}},
		SavedInfo: map[string]any{"title": "Image Protection Saved Info", "type": "object", "properties": map[string]any{
			"image_metadata": map[string]any{"type": "object", "title": "Image Metadata",
				"description": "The image's formats, checksums, size and properties"},
		}, "required": []any{"image_metadata"}},
	}
}

// Operation returns the hooks of op: everything happens in on_main.
func (p *Plugin) Operation(op model.OperationType, _ model.Resource) (protection.Operation, error) {
	ops := openstack.InBank(protection.Operation{Main: p.protect}, protection.Operation{Main: p.restore})
	ops[model.OpVerify] = protection.Operation{Main: p.verify}
	return ops.Get(op)
}
