package volume

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"

	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// Section is the backup plugin's section of a provider file.
const Section = "cinder_backup_protection_plugin"

// Plugin protects volumes with Cinder backups.
type Plugin struct {
	cinder
	fromSnapshot bool
}

var _ protection.Factory = New

// New builds the Cinder backup plugin from a provider file.
func New(cfg *conf.File) (protection.Plugin, error) {
	b, err := openstack.NewBase(cfg, Section, openstack.TypeVolume, 15*time.Second)
	if err != nil {
		return nil, err
	}
	p := &Plugin{cinder: cinder{Base: b, artifact: backupArtifact}}
	if p.fromSnapshot, err = cfg.Bool(Section, "backup_from_snapshot", true); err != nil {
		return nil, err
	}
	return p, nil
}

// Schemas are Karbor's.
func (p *Plugin) Schemas(string) protection.Schemas {
	str := func(title, desc string) map[string]any {
		return map[string]any{"type": "string", "title": title, "description": desc}
	}
	return protection.Schemas{
		Options: map[string]any{"title": "Cinder Protection Options", "type": "object", "properties": map[string]any{
			"backup_name": str("Backup Name", "The name of the backup."),
			"backup_mode": map[string]any{"type": "string", "title": "Backup Mode", "description": "The backup mode.",
				"enum": []string{"full", "incremental"}, "default": "full"},
			"container":   str("Container", "The container which been chosen."),
			"description": str("Description", "The description of the volume."),
			"force": map[string]any{"type": "boolean", "title": "Force",
				"description": "Whether to backup, even if the volume is attached", "default": false},
		}},
		Restore: map[string]any{"title": "Cinder Protection Restore", "type": "object", "properties": map[string]any{
			"volume_id":           str("Volume ID", "The target volume ID to restore to."),
			"restore_name":        str("Restore Name", "The name of the restored volume."),
			"restore_description": str("Restore Description", "The description of the restored volume."),
		}},
		SavedInfo: map[string]any{"title": "Cinder Protection Saved Info", "type": "object", "properties": map[string]any{
			"name":           str("Name", "The name for this backup."),
			"is_incremental": map[string]any{"type": "boolean", "title": "Is Incremental", "description": "The type of the backup, True is incremental and False is full."},
			"status":         str("Status", "The backup status, such as available."),
			"progress":       map[string]any{"type": "number", "title": "Progress", "description": "The current operation progress for this backup."},
			"fail_reason":    str("Fail Reason", "The reason for the failure status of the backup."),
			"size":           map[string]any{"type": "integer", "title": "Size", "description": "The size of the backup, in GB."},
			"volume_id":      str("Volume ID", "The ID of the volume from which the backup was created."),
		}, "required": []string{"name", "status", "progress", "fail_reason", "size", "volume_id"}},
	}
}

// Operation returns the hooks of op.
func (p *Plugin) Operation(op model.OperationType, _ model.Resource) (protection.Operation, error) {
	protect := protection.Operation{Main: p.protect}
	if p.fromSnapshot {
		protect.PrepareFinish = p.snapshot
	}
	// No copy: the data is in Cinder, not in the bank.
	return protection.Operations{model.OpProtect: protect, model.OpRestore: {Main: p.restore},
		model.OpDelete: {Main: p.delete}, model.OpVerify: {Main: p.verify}}.Get(op)
}

// snapshot (on_prepare_finish) takes the forced snapshot the backup is
// made from. A retried hook reuses its earlier attempt's snapshot, or
// deletes it if it failed.
func (p *Plugin) snapshot(ctx context.Context, hc *protection.HookContext) error {
	return openstack.Protecting(ctx, hc, func() error {
		sc, md, err := p.begin(ctx, hc)
		if err != nil {
			return err
		}
		if md.SnapshotID, err = p.earlierSnapshot(ctx, hc, sc, md.SnapshotID); err != nil || md.SnapshotID != "" {
			if err == nil {
				_, err = p.waitSnapshot(ctx, hc, sc, md.SnapshotID, 0)
			}
			return err
		}
		v, err := p.waitStable(ctx, sc, hc.Resource.ID)
		if err != nil {
			return err
		}
		s, err := snapshots.Create(ctx, sc, snapshots.CreateOpts{VolumeID: v.ID, Force: true,
			Name:        "pouch-backup-" + hc.CheckpointID,
			Description: "temporary snapshot of checkpoint " + hc.CheckpointID + " to back up from",
			Metadata:    map[string]string{tagKey: hc.CheckpointID}}).Extract()
		if err != nil {
			return fmt.Errorf("snapshot volume %s: %w", v.ID, openstack.Classify(err))
		}
		md.describe(v)
		md.SnapshotID = s.ID
		if err := openstack.SaveMetadata(ctx, hc, md); err != nil {
			return err
		}
		hc.Log.InfoContext(ctx, "snapshot to back up from", "snapshot", s.ID, "volume_status", v.Status)
		_, err = p.waitSnapshot(ctx, hc, sc, s.ID, 0)
		return err
	})
}

// protect (on_main) backs the volume up and deletes the temporary snapshot.
func (p *Plugin) protect(ctx context.Context, hc *protection.HookContext) error {
	return openstack.Protect(ctx, hc, func() error {
		sc, md, err := p.begin(ctx, hc)
		if err != nil {
			return err
		}
		err = p.backup(ctx, hc, sc, &md)
		// A transient error is retried: the next attempt needs the snapshot.
		if md.SnapshotID != "" && (!openstack.IsTransient(err) || hc.LastAttempt) {
			p.dropSnapshot(ctx, hc, sc, md.SnapshotID, err == nil)
		}
		return err
	})
}

// backup makes (or, on a retried hook, resumes) the backup, recording its
// id in md and the bank as soon as it is known.
func (p *Plugin) backup(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, md *Metadata) error {
	v, err := p.waitStable(ctx, sc, hc.Resource.ID)
	if err != nil {
		return err
	}
	md.describe(v)
	total := int64(v.Size) * gib
	hc.Progress.AddTotal(total)
	id, err := p.earlierBackup(ctx, hc, sc, md.BackupID)
	if err != nil {
		return err
	}
	if id == "" {
		if id, err = p.createBackup(ctx, hc, sc, md); err != nil {
			return err
		}
	}
	md.BackupID = id
	if err := openstack.SaveMetadata(ctx, hc, md); err != nil {
		return err
	}
	b, err := p.waitBackup(ctx, sc, id)
	if b != nil {
		md.Name, md.Description, md.IsIncremental, md.Status, md.FailReason = b.Name, b.Description, b.IsIncremental, b.Status, b.FailReason
	}
	if err != nil {
		if serr := openstack.SaveMetadata(context.WithoutCancel(ctx), hc, md); serr != nil {
			hc.Log.WarnContext(ctx, "metadata of the failed backup not saved", "err", serr)
		}
		return fmt.Errorf("back up volume %s: %w", v.ID, err)
	}
	hc.Progress.AddDone(total)
	hc.Log.InfoContext(ctx, "volume backed up", "backup", id, "incremental", b.IsIncremental, "size_gib", b.Size)
	return openstack.SaveMetadata(ctx, hc, md)
}

// earlierBackup returns the backup an earlier attempt made if it is still
// good; one in error is deleted.
func (p *Plugin) earlierBackup(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	b, err := backups.Get(ctx, sc, id).Extract()
	switch {
	case openstack.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", openstack.Classify(err)
	case b.Status != "error":
		hc.Log.InfoContext(ctx, "resuming the backup of an earlier attempt", "backup", id, "status", b.Status)
		return id, nil
	}
	hc.Log.InfoContext(ctx, "deleting the failed backup of an earlier attempt", "backup", id, "reason", b.FailReason)
	return "", p.deleteBackup(ctx, sc, id)
}

// createBackup starts the backup the parameters ask for.
func (p *Plugin) createBackup(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, md *Metadata) (string, error) {
	force, err := hc.BoolParam("force", false)
	if err != nil {
		return "", err
	}
	opts := backups.CreateOpts{VolumeID: md.VolumeID, SnapshotID: md.SnapshotID, Force: force,
		Name:        hc.StringParam("backup_name", hc.CheckpointID+"@"+md.VolumeID),
		Description: hc.StringParam("description", ""), Container: hc.StringParam("container", ""),
		Metadata: map[string]string{tagKey: hc.CheckpointID}}
	switch mode := hc.StringParam("backup_mode", "full"); mode {
	case "full":
	case "incremental":
		if opts.Incremental, err = p.hasBackup(ctx, sc, md.VolumeID); err != nil {
			return "", err
		}
		if !opts.Incremental {
			hc.Log.InfoContext(ctx, "incremental backup asked for, but the volume has no backup yet: a full one it is")
		}
	default:
		return "", fmt.Errorf("%w: backup_mode %q: want full or incremental", protection.ErrInvalid, mode)
	}
	b, err := backups.Create(ctx, sc, opts).Extract()
	if err != nil {
		return "", fmt.Errorf("back up volume %s: %w", md.VolumeID, openstack.Classify(err))
	}
	hc.Log.InfoContext(ctx, "backup started", "backup", b.ID, "name", opts.Name, "snapshot", opts.SnapshotID,
		"incremental", opts.Incremental)
	return b.ID, nil
}

// hasBackup reports whether the volume has an available backup, which an
// incremental one needs.
func (p *Plugin) hasBackup(ctx context.Context, sc *gophercloud.ServiceClient, volume string) (bool, error) {
	bs, err := listBackups(ctx, sc, volume)
	if err != nil {
		return false, err
	}
	for _, b := range bs {
		if b.Status == "available" {
			return true, nil
		}
	}
	return false, nil
}

// dropSnapshot deletes the temporary snapshot after the backup. After a
// failure it only asks for the deletion: the snapshot may still be being
// backed up, and the checkpoint's delete finishes the job. A snapshot that
// will not go is logged, not an error: the backup is made.
func (p *Plugin) dropSnapshot(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, id string, wait bool) {
	ctx = context.WithoutCancel(ctx)
	var err error
	if wait {
		err = p.deleteSnapshot(ctx, sc, id)
	} else if err = snapshots.Delete(ctx, sc, id).ExtractErr(); openstack.IsNotFound(err) {
		err = nil
	}
	if err != nil {
		hc.Log.WarnContext(ctx, "temporary snapshot not deleted; deleting the checkpoint will", "snapshot", id, "err", err)
		return
	}
	hc.Log.InfoContext(ctx, "temporary snapshot deleted", "snapshot", id)
}

// restore (on_main) makes a new volume from the backup, or restores into
// the volume of the volume_id parameter.
func (p *Plugin) restore(ctx context.Context, hc *protection.HookContext) error {
	md, err := p.saved(ctx, hc)
	if err != nil {
		return err
	}
	spec := restoreSpec{Into: hc.StringParam("volume_id", "")}
	spec.Name, spec.Description = restoreNames(hc, md)
	spec.Create = func(ctx context.Context, sc *gophercloud.ServiceClient) (string, error) {
		opts := backups.RestoreOpts{VolumeID: spec.Into, Name: spec.Name}
		if spec.Into != "" {
			opts.Name = ""
		}
		r, err := backups.RestoreFromBackup(ctx, sc, md.BackupID, opts).Extract()
		if err != nil {
			return "", fmt.Errorf("restore backup %s: %w", md.BackupID, openstack.Classify(err))
		}
		return r.VolumeID, nil
	}
	return p.cinder.restore(ctx, hc, md, spec)
}

// backupArtifact: a checkpoint of the backup plugin keeps a Cinder backup.
var backupArtifact = artifact{kind: "backup", id: func(md Metadata) string { return md.BackupID },
	status: func(ctx context.Context, sc *gophercloud.ServiceClient, id string) (string, error) {
		b, err := backups.Get(ctx, sc, id).Extract()
		if err != nil {
			return "", err
		}
		return b.Status, nil
	}}
