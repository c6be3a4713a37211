package volume

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/shared/protection"
)

// microversion of Cinder's API the plugins speak: 3.43 gives backups
// metadata, which tags them with their checkpoint.
const microversion = "3.43"

// tagKey is the metadata key, on every snapshot and backup a checkpoint
// makes, whose value is the checkpoint's id: its delete finds them even if
// the hook that made them died before recording their ids.
const tagKey = "pouch_checkpoint"

// gib is the size of one Cinder size unit.
const gib = 1 << 30

// Metadata is what protect saves: the volume as it was and the backup or
// snapshot that holds its data. Ids are saved as soon as known, so that a
// retried hook resumes and a delete cleans up after a failed protect.
type Metadata struct {
	VolumeID   string `json:"volume_id"`
	BackupID   string `json:"backup_id,omitempty"`
	SnapshotID string `json:"snapshot_id,omitempty"` // the backup plugin's temporary snapshot, or the snapshot plugin's copy
	// Name and Description are the backup's (or snapshot's).
	Name          string `json:"name,omitempty"`
	Description   string `json:"description,omitempty"`
	IsIncremental bool   `json:"is_incremental,omitempty"`
	Status        string `json:"status,omitempty"` // of the backup or snapshot when protect ended
	FailReason    string `json:"fail_reason,omitempty"`
	// The volume's attributes, for restore.
	Size              int               `json:"size"` // GiB
	VolumeName        string            `json:"volume_name"`
	VolumeDescription string            `json:"volume_description,omitempty"`
	VolumeType        string            `json:"volume_type,omitempty"`
	AvailabilityZone  string            `json:"availability_zone,omitempty"`
	Bootable          bool              `json:"bootable"`
	VolumeMetadata    map[string]string `json:"volume_metadata,omitempty"`
}

// describe copies the volume's attributes into md.
func (md *Metadata) describe(v *volumes.Volume) {
	md.VolumeID, md.Size, md.VolumeName, md.VolumeDescription = v.ID, v.Size, v.Name, v.Description
	md.VolumeType, md.AvailabilityZone, md.VolumeMetadata = v.VolumeType, v.AvailabilityZone, v.Metadata
	md.Bootable, _ = strconv.ParseBool(v.Bootable)
}

// loadMetadata reads what an earlier hook saved; none yet is an empty
// Metadata of the resource.
func loadMetadata(ctx context.Context, hc *protection.HookContext) (Metadata, error) {
	var md Metadata
	err := openstack.LoadMetadata(ctx, hc, &md)
	if errors.Is(err, bank.ErrNotFound) {
		return Metadata{VolumeID: hc.Resource.ID}, nil
	}
	return md, err
}

// cinder is the two plugins' common part: the cloud, polling, the restore
// of a volume, and the delete and verify of what a checkpoint keeps in
// Cinder (its artifact).
type cinder struct {
	openstack.Base
	artifact artifact
}

// artifact is what a checkpoint keeps in Cinder: a backup or a snapshot.
type artifact struct {
	kind   string
	id     func(Metadata) string
	status func(ctx context.Context, sc *gophercloud.ServiceClient, id string) (string, error)
}

// saved is the metadata of a checkpoint that has its artifact.
func (c *cinder) saved(ctx context.Context, hc *protection.HookContext) (Metadata, error) {
	var md Metadata
	if err := openstack.LoadMetadata(ctx, hc, &md); err != nil {
		return md, err
	}
	if c.artifact.id(md) == "" {
		return md, fmt.Errorf("%w: no %s of volume %s in checkpoint %s", protection.ErrNotFound, c.artifact.kind,
			hc.Resource.ID, hc.CheckpointID)
	}
	return md, nil
}

// delete (on_main) deletes what the checkpoint made in Cinder (the
// artifact, any snapshot left), then the bank data.
func (c *cinder) delete(ctx context.Context, hc *protection.HookContext) error {
	sc, md, err := c.begin(ctx, hc)
	if err != nil {
		return err
	}
	if err := c.cleanup(ctx, hc, sc, md); err != nil {
		return err
	}
	return openstack.DeleteData(ctx, hc)
}

// verify checks that the checkpoint's artifact is available.
func (c *cinder) verify(ctx context.Context, hc *protection.HookContext) error {
	if err := openstack.VerifyStatus(ctx, hc); err != nil {
		return err
	}
	md, err := c.saved(ctx, hc)
	if err != nil {
		return err
	}
	sc, err := c.client(ctx, hc)
	if err != nil {
		return err
	}
	id := c.artifact.id(md)
	st, err := c.artifact.status(ctx, sc, id)
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.artifact.kind, id, openstack.Classify(err))
	}
	if st != "available" {
		return fmt.Errorf("%w: %s %s is %s", protection.ErrInvalid, c.artifact.kind, id, st)
	}
	return nil
}

// client connects with the hook's credentials to Cinder.
func (c *cinder) client(ctx context.Context, hc *protection.HookContext) (*gophercloud.ServiceClient, error) {
	cl, err := c.Connect(ctx, hc)
	if err != nil {
		return nil, err
	}
	sc, err := cl.BlockStorage()
	if err != nil {
		return nil, err
	}
	sc.Microversion = microversion
	return sc, nil
}

// begin connects to Cinder and reads what the resource's earlier hooks
// saved: the start of every hook that goes on from them.
func (c *cinder) begin(ctx context.Context, hc *protection.HookContext) (*gophercloud.ServiceClient, Metadata, error) {
	sc, err := c.client(ctx, hc)
	if err != nil {
		return nil, Metadata{}, err
	}
	md, err := loadMetadata(ctx, hc)
	return sc, md, err
}

// waitStable waits until the volume is available or in-use: a snapshot or
// a backup can start.
func (c *cinder) waitStable(ctx context.Context, sc *gophercloud.ServiceClient, id string) (*volumes.Volume, error) {
	var v *volumes.Volume
	err := c.Poll.Wait(ctx, "volume "+id, func(ctx context.Context) (string, bool, error) {
		var err error
		if v, err = volumes.Get(ctx, sc, id).Extract(); err != nil {
			return "", false, openstack.Classify(err)
		}
		switch {
		case v.Status == "available" || v.Status == "in-use":
			return v.Status, true, nil
		case strings.HasPrefix(v.Status, "error") || v.Status == "deleting":
			return v.Status, false, fmt.Errorf("is %s, not available or in-use", v.Status)
		}
		return v.Status, false, nil
	})
	return v, err
}

// waitAvailable waits until a new volume is available.
func (c *cinder) waitAvailable(ctx context.Context, sc *gophercloud.ServiceClient, id string) (*volumes.Volume, error) {
	var v *volumes.Volume
	err := c.Poll.Wait(ctx, "volume "+id, func(ctx context.Context) (string, bool, error) {
		var err error
		if v, err = volumes.Get(ctx, sc, id).Extract(); err != nil {
			return "", false, openstack.Classify(err)
		}
		if strings.HasPrefix(v.Status, "error") {
			return v.Status, false, fmt.Errorf("went to %s", v.Status)
		}
		return v.Status, v.Status == "available", nil
	})
	return v, err
}

// waitSnapshot waits until a snapshot is available, reporting its progress
// as a share of size bytes.
func (c *cinder) waitSnapshot(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, id string, size int64) (*snapshots.Snapshot, error) {
	var (
		s    *snapshots.Snapshot
		done int64
	)
	err := c.Poll.Wait(ctx, "snapshot "+id, func(ctx context.Context) (string, bool, error) {
		var err error
		if s, err = snapshots.Get(ctx, sc, id).Extract(); err != nil {
			return "", false, openstack.Classify(err)
		}
		if strings.HasPrefix(s.Status, "error") {
			return s.Status, false, fmt.Errorf("%w: went to %s", errSnapshotFailed, s.Status)
		}
		now := size * percent(s.Progress) / 100
		if s.Status == "available" {
			now = size
		}
		if now > done {
			hc.Progress.AddDone(now - done)
			done = now
		}
		return s.Status, s.Status == "available", nil
	})
	if errors.Is(err, errSnapshotFailed) {
		// Worth another attempt, which deletes this snapshot and takes a
		// new one (earlierSnapshot): a Nova-assisted snapshot of an
		// attached volume can fail when Nova or Cinder is slow to answer.
		err = protection.Transient(err)
	}
	return s, err
}

// errSnapshotFailed: Cinder put a snapshot in error.
var errSnapshotFailed = errors.New("the snapshot failed")

// percent reads Cinder's "NN%" progress (0 if it is not one).
func percent(p string) int64 {
	n, err := strconv.ParseInt(strings.TrimSuffix(p, "%"), 10, 64)
	if err != nil || n < 0 || n > 100 {
		return 0
	}
	return n
}

// waitBackup waits until a backup is available; one in error fails with
// Cinder's reason.
func (c *cinder) waitBackup(ctx context.Context, sc *gophercloud.ServiceClient, id string) (*backups.Backup, error) {
	var b *backups.Backup
	err := c.Poll.Wait(ctx, "backup "+id, func(ctx context.Context) (string, bool, error) {
		var err error
		if b, err = backups.Get(ctx, sc, id).Extract(); err != nil {
			return "", false, openstack.Classify(err)
		}
		if b.Status == "error" {
			return b.Status, false, fmt.Errorf("%w: %s", errBackup, cmp.Or(b.FailReason, "no reason given"))
		}
		return b.Status, b.Status == "available", nil
	})
	return b, err
}

// errBackup marks a backup Cinder failed; Cinder's reason follows.
var errBackup = errors.New("failed in Cinder")

// deleteSnapshot deletes a snapshot and waits until it is gone. One still
// being made or backed up is waited for first; one already gone is fine.
func (c *cinder) deleteSnapshot(ctx context.Context, sc *gophercloud.ServiceClient, id string) error {
	return c.Poll.Wait(ctx, "deleting snapshot "+id, func(ctx context.Context) (string, bool, error) {
		s, err := snapshots.Get(ctx, sc, id).Extract()
		switch {
		case openstack.IsNotFound(err):
			return "gone", true, nil
		case err != nil:
			return "", false, openstack.Classify(err)
		case s.Status == "available" || s.Status == "error":
			err = snapshots.Delete(ctx, sc, id).ExtractErr()
			if err != nil && !openstack.IsNotFound(err) {
				return s.Status, false, openstack.Classify(err)
			}
		case s.Status == "error_deleting":
			return s.Status, false, errors.New("error_deleting: an administrator must reset its status")
		}
		return s.Status, false, nil
	})
}

// deleteBackup deletes a backup and waits until it is gone, as
// deleteSnapshot. A backup others depend on (incremental backups of later
// checkpoints) cannot be deleted: Cinder's refusal is the error.
func (c *cinder) deleteBackup(ctx context.Context, sc *gophercloud.ServiceClient, id string) error {
	return c.Poll.Wait(ctx, "deleting backup "+id, func(ctx context.Context) (string, bool, error) {
		b, err := backups.Get(ctx, sc, id).Extract()
		switch {
		case openstack.IsNotFound(err):
			return "gone", true, nil
		case err != nil:
			return "", false, openstack.Classify(err)
		case b.Status == "available" || b.Status == "error":
			err = backups.Delete(ctx, sc, id).ExtractErr()
			if err != nil && !openstack.IsNotFound(err) {
				return b.Status, false, openstack.Classify(err)
			}
		case b.Status == "error_deleting":
			return b.Status, false, errors.New("error_deleting: an administrator must reset its status")
		}
		return b.Status, false, nil
	})
}

// earlierSnapshot returns the snapshot an earlier attempt of the hook
// made if it is still good; one in error is deleted.
func (c *cinder) earlierSnapshot(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	s, err := snapshots.Get(ctx, sc, id).Extract()
	switch {
	case openstack.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", openstack.Classify(err)
	case s.Status != "error":
		hc.Log.InfoContext(ctx, "resuming the snapshot of an earlier attempt", "snapshot", id, "status", s.Status)
		return id, nil
	}
	hc.Log.InfoContext(ctx, "deleting the failed snapshot of an earlier attempt", "snapshot", id)
	return "", c.deleteSnapshot(ctx, sc, id)
}

// tagged lists the ids of the volume's snapshots and backups tagged with
// the checkpoint.
func tagged(ctx context.Context, sc *gophercloud.ServiceClient, volume, checkpoint string) (snaps, backs []string, err error) {
	pages, err := snapshots.ListDetail(sc, snapshots.ListOpts{VolumeID: volume}).AllPages(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list snapshots of volume %s: %w", volume, openstack.Classify(err))
	}
	ss, err := snapshots.ExtractSnapshots(pages)
	if err != nil {
		return nil, nil, err
	}
	for _, s := range ss {
		if s.Metadata[tagKey] == checkpoint {
			snaps = append(snaps, s.ID)
		}
	}
	bs, err := listBackups(ctx, sc, volume)
	if err != nil {
		return nil, nil, err
	}
	for _, b := range bs {
		if b.Metadata != nil && (*b.Metadata)[tagKey] == checkpoint {
			backs = append(backs, b.ID)
		}
	}
	return snaps, backs, nil
}

// backupsOf filters a backup listing by volume (gophercloud's
// ListDetailOpts has no filters).
type backupsOf string

func (v backupsOf) ToBackupListDetailQuery() (string, error) {
	q, err := gophercloud.BuildQueryString(struct {
		VolumeID string `q:"volume_id"`
	}{string(v)})
	if err != nil {
		return "", err
	}
	return q.String(), nil
}

// listBackups lists the volume's backups.
func listBackups(ctx context.Context, sc *gophercloud.ServiceClient, volume string) ([]backups.Backup, error) {
	pages, err := backups.ListDetail(sc, backupsOf(volume)).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list backups of volume %s: %w", volume, openstack.Classify(err))
	}
	return backups.ExtractBackups(pages)
}

// cleanup deletes what a checkpoint made of the volume: the backup and
// snapshot recorded in md and any tagged with the checkpoint. Backups go
// first: a snapshot being backed up cannot be deleted.
func (c *cinder) cleanup(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient, md Metadata) error {
	snaps, backs, err := tagged(ctx, sc, md.VolumeID, hc.CheckpointID)
	if err != nil {
		return err
	}
	for _, id := range unique(md.BackupID, backs) {
		if err := c.deleteBackup(ctx, sc, id); err != nil {
			return err
		}
		hc.Log.InfoContext(ctx, "backup deleted", "backup", id)
	}
	for _, id := range unique(md.SnapshotID, snaps) {
		if err := c.deleteSnapshot(ctx, sc, id); err != nil {
			return err
		}
		hc.Log.InfoContext(ctx, "snapshot deleted", "snapshot", id)
	}
	return nil
}

// unique is id (if not empty) and ids, without repeats.
func unique(id string, ids []string) []string {
	var out []string
	for _, x := range append([]string{id}, ids...) {
		if x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// restoreSpec says how restore makes the new volume.
type restoreSpec struct {
	Name, Description string
	// Into is an existing volume restored into (the backup plugin's
	// volume_id parameter): it is not deleted if the restore fails.
	Into string
	// Create starts making the volume and returns its id.
	Create func(ctx context.Context, sc *gophercloud.ServiceClient) (string, error)
}

// restore makes the volume of spec from md and reports it under
// "OS::Cinder::Volume#<new id>": restoring as soon as its id is known, then
// available or error. The new id is recorded at once, so that a retried
// hook waits for the same volume instead of making a second one. A volume
// that fails is deleted (unless it is spec.Into).
func (c *cinder) restore(ctx context.Context, hc *protection.HookContext, md Metadata, spec restoreSpec) error {
	sc, err := c.client(ctx, hc)
	if err != nil {
		return err
	}
	id, err := c.earlier(ctx, hc, sc)
	if err != nil {
		return err
	}
	if id == "" {
		if id, err = spec.Create(ctx, sc); err != nil {
			return fmt.Errorf("restore volume %s: %w", md.VolumeID, err)
		}
		if err := hc.NewResources.Set(ctx, hc.Resource.ID, id); err != nil {
			return fmt.Errorf("record new volume %s: %w", id, err)
		}
		hc.Log.InfoContext(ctx, "restoring volume", "volume", id, "name", spec.Name)
	}
	if err := hc.Status.ReportStatus(ctx, openstack.TypeVolume+"#"+id, openstack.RestoreRestoring, ""); err != nil {
		return err
	}
	total := int64(md.Size) * gib
	hc.Progress.AddTotal(total)
	if err := c.finish(ctx, sc, id, md, spec); err != nil {
		if openstack.IsTransient(err) && !hc.LastAttempt {
			return err // the engine retries: the next attempt finds the volume
		}
		err = fmt.Errorf("restore volume %s: %w", md.VolumeID, err)
		if spec.Into == "" {
			if derr := volumes.Delete(context.WithoutCancel(ctx), sc, id, volumes.DeleteOpts{}).ExtractErr(); derr != nil && !openstack.IsNotFound(derr) {
				hc.Log.WarnContext(ctx, "failed volume not deleted", "volume", id, "err", derr)
			}
		}
		if rerr := openstack.Restored(context.WithoutCancel(ctx), hc, openstack.TypeVolume, hc.Resource.ID, id, openstack.RestoreError, err.Error()); rerr != nil {
			hc.Log.WarnContext(ctx, "restore error not reported", "err", rerr)
		}
		return err
	}
	hc.Progress.AddDone(total)
	return openstack.Restored(ctx, hc, openstack.TypeVolume, hc.Resource.ID, id, openstack.RestoreAvailable, "")
}

// earlier returns the volume an earlier attempt of this restore made, if it
// still exists.
func (c *cinder) earlier(ctx context.Context, hc *protection.HookContext, sc *gophercloud.ServiceClient) (string, error) {
	id, ok, err := hc.NewResources.Get(ctx, hc.Resource.ID)
	if err != nil || !ok {
		return "", err
	}
	_, err = volumes.Get(ctx, sc, id).Extract()
	switch {
	case openstack.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", openstack.Classify(err)
	}
	hc.Log.InfoContext(ctx, "resuming the restore of an earlier attempt", "volume", id)
	return id, nil
}

// finish waits for the new volume and gives it the name, description and
// bootable flag it should have.
func (c *cinder) finish(ctx context.Context, sc *gophercloud.ServiceClient, id string, md Metadata, spec restoreSpec) error {
	v, err := c.waitAvailable(ctx, sc, id)
	if err != nil {
		return err
	}
	if v.Name != spec.Name || v.Description != spec.Description {
		if _, err := volumes.Update(ctx, sc, id, volumes.UpdateOpts{Name: &spec.Name, Description: &spec.Description}).Extract(); err != nil {
			return fmt.Errorf("name volume %s: %w", id, openstack.Classify(err))
		}
	}
	if bootable, _ := strconv.ParseBool(v.Bootable); bootable != md.Bootable {
		if err := volumes.SetBootable(ctx, sc, id, volumes.BootableOpts{Bootable: md.Bootable}).ExtractErr(); err != nil {
			return fmt.Errorf("set bootable on volume %s: %w", id, openstack.Classify(err))
		}
	}
	return nil
}

// restoreNames are the new volume's name and description: the restore
// parameters, else the original volume's, else Karbor's
// "<checkpoint>@<volume>".
func restoreNames(hc *protection.HookContext, md Metadata) (name, description string) {
	name = hc.StringParam("restore_name", md.VolumeName)
	if name == "" {
		name = hc.CheckpointID + "@" + md.VolumeID
	}
	return name, hc.StringParam("restore_description", md.VolumeDescription)
}
