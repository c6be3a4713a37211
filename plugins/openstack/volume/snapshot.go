package volume

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// SnapshotSection is the snapshot plugin's section of a provider file.
const SnapshotSection = "volume_snapshot_plugin"

// SnapshotPlugin protects volumes with Cinder snapshots.
type SnapshotPlugin struct{ cinder }

var _ protection.Factory = NewSnapshot

// NewSnapshot builds the volume snapshot plugin from a provider file.
func NewSnapshot(cfg *conf.File) (protection.Plugin, error) {
	b, err := openstack.NewBase(cfg, SnapshotSection, openstack.TypeVolume, 15*time.Second)
	if err != nil {
		return nil, err
	}
	return &SnapshotPlugin{cinder{Base: b, artifact: snapshotArtifact}}, nil
}

// Schemas are Karbor's.
func (p *SnapshotPlugin) Schemas(string) protection.Schemas {
	str := func(title, desc string) map[string]any {
		return map[string]any{"type": "string", "title": title, "description": desc}
	}
	return protection.Schemas{
		Options: map[string]any{"title": "Volume Snapshot Options", "type": "object", "properties": map[string]any{
			"snapshot_name": str("Snapshot Name", "The name of the snapshot."),
			"description":   str("Description", "The description of the snapshot."),
			"force": map[string]any{"type": "boolean", "title": "Force", "default": false,
				"description": "Allows or disallows snapshot of a volume when the volume is attached to an instance."},
		}},
		Restore: map[string]any{"title": "Volume snapshot Restore", "type": "object", "properties": map[string]any{
			"restore_name":        str("Restore Volume Name", "The name of the restored volume."),
			"restore_description": str("Restore Description", "The description of the restored volume."),
		}},
		SavedInfo: map[string]any{"title": "Volume Protection Saved Info", "type": "object", "properties": map[string]any{}},
	}
}

// Operation returns the hooks of op.
func (p *SnapshotPlugin) Operation(op model.OperationType, _ model.Resource) (protection.Operation, error) {
	// No copy: the snapshot is in Cinder, not in the bank.
	return protection.Operations{model.OpProtect: {Main: p.protect}, model.OpRestore: {Main: p.restore},
		model.OpDelete: {Main: p.delete}, model.OpVerify: {Main: p.verify}}.Get(op)
}

// protect (on_main) takes the snapshot, or resumes an earlier attempt's.
func (p *SnapshotPlugin) protect(ctx context.Context, hc *protection.HookContext) error {
	return openstack.Protect(ctx, hc, func() error {
		sc, md, err := p.begin(ctx, hc)
		if err != nil {
			return err
		}
		v, err := p.waitStable(ctx, sc, hc.Resource.ID)
		if err != nil {
			return err
		}
		md.describe(v)
		total := int64(v.Size) * gib
		hc.Progress.AddTotal(total)
		if md.SnapshotID, err = p.earlierSnapshot(ctx, hc, sc, md.SnapshotID); err != nil {
			return err
		}
		if md.SnapshotID == "" {
			force, err := hc.BoolParam("force", false)
			if err != nil {
				return err
			}
			s, err := snapshots.Create(ctx, sc, snapshots.CreateOpts{VolumeID: v.ID, Force: force,
				Name:        hc.StringParam("snapshot_name", hc.CheckpointID+"@"+v.ID),
				Description: hc.StringParam("description", ""),
				Metadata:    map[string]string{tagKey: hc.CheckpointID}}).Extract()
			if err != nil {
				return fmt.Errorf("snapshot volume %s: %w", v.ID, openstack.Classify(err))
			}
			md.SnapshotID = s.ID
			hc.Log.InfoContext(ctx, "snapshot started", "snapshot", s.ID, "name", s.Name)
		}
		if err := openstack.SaveMetadata(ctx, hc, md); err != nil {
			return err
		}
		s, err := p.waitSnapshot(ctx, hc, sc, md.SnapshotID, total)
		if err != nil {
			return fmt.Errorf("snapshot volume %s: %w", v.ID, err)
		}
		md.Name, md.Description, md.Status = s.Name, s.Description, s.Status
		return openstack.SaveMetadata(ctx, hc, md)
	})
}

// restore (on_main) makes a new volume from the snapshot.
func (p *SnapshotPlugin) restore(ctx context.Context, hc *protection.HookContext) error {
	md, err := p.saved(ctx, hc)
	if err != nil {
		return err
	}
	var spec restoreSpec
	spec.Name, spec.Description = restoreNames(hc, md)
	spec.Create = func(ctx context.Context, sc *gophercloud.ServiceClient) (string, error) {
		v, err := volumes.Create(ctx, sc, volumes.CreateOpts{SnapshotID: md.SnapshotID, Size: md.Size,
			Name: spec.Name, Description: spec.Description, Metadata: md.VolumeMetadata}, nil).Extract()
		if err != nil {
			return "", fmt.Errorf("volume from snapshot %s: %w", md.SnapshotID, openstack.Classify(err))
		}
		return v.ID, nil
	}
	return p.cinder.restore(ctx, hc, md, spec)
}

// snapshotArtifact: a checkpoint of the snapshot plugin keeps a Cinder
// snapshot.
var snapshotArtifact = artifact{kind: "snapshot", id: func(md Metadata) string { return md.SnapshotID },
	status: func(ctx context.Context, sc *gophercloud.ServiceClient, id string) (string, error) {
		s, err := snapshots.Get(ctx, sc, id).Extract()
		if err != nil {
			return "", err
		}
		return s.Status, nil
	}}
