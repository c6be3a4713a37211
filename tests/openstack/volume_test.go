package openstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/tests/apitest"
	"github.com/pouchdp/pouch/tests/openstacktest"
)

// Limits of the volume tests' operations: a 1 GiB backup or restore takes
// 20-40 s on the test stack, longer when others load the machine.
const (
	volProtectLimit = 10 * time.Minute
	volRestoreLimit = 10 * time.Minute
	volDeleteLimit  = 5 * time.Minute
)

// volTest is one volume test's world: Pouch with the shipped providers,
// fixtures and Cinder as the demo user.
type volTest struct {
	*testing.T
	stack *openstacktest.Stack
	p     *pouch
	f     *fixtures
	sc    *gophercloud.ServiceClient // microversion 3.43: backups show their metadata
}

func newVolTest(t *testing.T) *volTest {
	s := openstacktest.Start(t)
	f := newFixtures(t, s)
	sc, err := f.cl.BlockStorage()
	if err != nil {
		t.Fatal(err)
	}
	sc.Microversion = "3.43"
	return &volTest{T: t, stack: s, p: newPouch(t, s, nil), f: f, sc: sc}
}

// volume makes a 1 GiB volume.
func (v *volTest) volume(what string) *volumes.Volume {
	v.Helper()
	return v.f.volume(openstacktest.Name(v, what), 1, "")
}

func resource(vol *volumes.Volume) model.Resource {
	return model.Resource{ID: vol.ID, Type: "OS::Cinder::Volume", Name: vol.Name}
}

// file is the path of the volume's data file, which must be raw (a volume
// with snapshots is a qcow2 chain; after an offline snapshot delete the raw
// file is the volume again).
func (v *volTest) file(id string) string {
	v.Helper()
	dir := v.stack.Env["CINDER_SHARE_DIR"]
	name := "volume-" + id
	if data, err := os.ReadFile(filepath.Join(dir, name+".info")); err == nil {
		var info struct{ Active string }
		if err := json.Unmarshal(data, &info); err == nil && info.Active != "" {
			name = info.Active
		}
	}
	path := filepath.Join(dir, name)
	out, err := exec.Command("qemu-img", "info", "--output=json", "-U", path).Output()
	if err != nil {
		v.Fatalf("qemu-img info %s: %v", path, err)
	}
	var info struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(out, &info); err != nil || info.Format != "raw" {
		v.Fatalf("volume %s file %s is %q, not raw (%v)", id, path, info.Format, err)
	}
	return path
}

// volOffsets are where the tests write into a volume: its start, the
// middle and the last MiB.
var volOffsets = []int64{0, 512 << 20, 1<<30 - 1<<20}

// fill writes 64 KiB derived from tag at each of volOffsets.
func (v *volTest) fill(id, tag string) {
	v.Helper()
	f, err := os.OpenFile(v.file(id), os.O_WRONLY, 0)
	if err != nil {
		v.Fatal(err)
	}
	defer f.Close()
	for _, off := range volOffsets {
		if _, err := f.WriteAt(volPattern(tag, off), off); err != nil {
			v.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		v.Fatal(err)
	}
}

// holds checks that the volume has fill(tag)'s data.
func (v *volTest) holds(id, tag string) {
	v.Helper()
	f, err := os.Open(v.file(id))
	if err != nil {
		v.Fatal(err)
	}
	defer f.Close()
	for _, off := range volOffsets {
		want := volPattern(tag, off)
		got := make([]byte, len(want))
		if _, err := f.ReadAt(got, off); err != nil {
			v.Fatalf("read volume %s at %d: %v", id, off, err)
		}
		if !bytes.Equal(got, want) {
			v.Errorf("volume %s at %d: %.40q..., want %.40q...", id, off, got, want)
		}
	}
}

func volPattern(tag string, off int64) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%s@%d;", tag, off)), 64<<10)[:64<<10]
}

// backups are the volume's backups.
func (v *volTest) backups(volume string) []backups.Backup {
	v.Helper()
	pages, err := backups.ListDetail(v.sc, nil).AllPages(v.Context())
	if err != nil {
		v.Fatal(err)
	}
	all, err := backups.ExtractBackups(pages)
	if err != nil {
		v.Fatal(err)
	}
	var out []backups.Backup
	for _, b := range all {
		if b.VolumeID == volume {
			out = append(out, b)
		}
	}
	return out
}

// tagged is the backup of the volume that checkpoint cp made.
func (v *volTest) tagged(volume, cp string) backups.Backup {
	v.Helper()
	for _, b := range v.backups(volume) {
		if b.Metadata != nil && (*b.Metadata)["pouch_checkpoint"] == cp {
			return b
		}
	}
	v.Fatalf("no backup of volume %s tagged with checkpoint %s", volume, cp)
	return backups.Backup{}
}

// snapshots are the volume's snapshots.
func (v *volTest) snapshots(volume string) []snapshots.Snapshot {
	v.Helper()
	pages, err := snapshots.ListDetail(v.sc, snapshots.ListOpts{VolumeID: volume}).AllPages(v.Context())
	if err != nil {
		v.Fatal(err)
	}
	out, err := snapshots.ExtractSnapshots(pages)
	if err != nil {
		v.Fatal(err)
	}
	return out
}

// bankData lists the files of the checkpoint's resource-data in the
// providers' file system bank.
func (v *volTest) bankData(cp string) []string {
	v.Helper()
	dir := filepath.Join(v.p.DataDir, "bank", "karbor", "checkpoints", cp, "resource-data")
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, strings.TrimPrefix(path, dir+"/"))
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		v.Fatal(err)
	}
	return out
}

// protect makes a checkpoint of a plan of provider over vols and waits
// for its end, which must be want: the checkpoint's final view.
func (v *volTest) protect(provider string, params obj, want string, vols ...*volumes.Volume) *apitest.Response {
	v.Helper()
	var rs []model.Resource
	for _, vol := range vols {
		rs = append(rs, resource(vol))
	}
	start := time.Now()
	cp := v.p.protect(v.T, provider, v.p.plan(v.T, provider, rs, params), volProtectLimit)
	v.Logf("checkpoint %s: %s in %s", cp.Str(v, "checkpoint", "id"), cp.Str(v, "checkpoint", "status"), time.Since(start).Round(time.Second))
	if st := cp.Str(v, "checkpoint", "status"); st != want {
		v.Fatalf("checkpoint %s, want %s: %s", st, want, cp.Raw)
	}
	return cp
}

// restore restores cp and checks that it succeeded with exactly one
// resource, a volume (Karbor R5): the new volume, deleted when the test
// ends.
func (v *volTest) restore(provider, cp string, params obj) *volumes.Volume {
	v.Helper()
	start := time.Now()
	r := v.p.restore(v.T, provider, cp, params, volRestoreLimit)
	v.Logf("restore of %s: %s in %s", cp, r.Str(v, "restore", "status"), time.Since(start).Round(time.Second))
	st, _ := r.Get(v, "restore", "resources_status").(map[string]any)
	var id string
	for k := range st {
		if t, rid, ok := strings.Cut(k, "#"); ok && t == "OS::Cinder::Volume" {
			id = rid
			v.Cleanup(func() { v.f.deleteVolume(rid) })
		}
	}
	if r.Str(v, "restore", "status") != model.RestoreSuccess || len(st) != 1 || id == "" || st["OS::Cinder::Volume#"+id] != "available" {
		v.Fatalf("restore: %s", r.Raw)
	}
	vol, err := volumes.Get(v.Context(), v.sc, id).Extract()
	if err != nil {
		v.Fatal(err)
	}
	if vol.Status != "available" {
		v.Errorf("restored volume %s is %s", id, vol.Status)
	}
	return vol
}

// deleteCheckpoint deletes cp, which must end deleted with no data left in
// the bank.
func (v *volTest) deleteCheckpoint(provider, cp string) {
	v.Helper()
	start := time.Now()
	r := v.p.deleteCheckpoint(v.T, provider, cp, volDeleteLimit)
	v.Logf("delete of %s: %s in %s", cp, r.Str(v, "checkpoint", "status"), time.Since(start).Round(time.Second))
	if st := r.Str(v, "checkpoint", "status"); st != model.CheckpointDeleted {
		v.Fatalf("checkpoint %s after delete: %s", st, r.Raw)
	}
	if left := v.bankData(cp); len(left) > 0 {
		v.Errorf("bank data of deleted checkpoint %s: %v", cp, left)
	}
}

// deleteVolume deletes a volume and waits until it is gone.
func (v *volTest) deleteVolume(id string) {
	v.Helper()
	if err := volumes.Delete(v.Context(), v.sc, id, volumes.DeleteOpts{}).ExtractErr(); err != nil {
		v.Fatal(err)
	}
	err := v.f.poll.Wait(v.Context(), "volume "+id+" gone", func(ctx context.Context) (string, bool, error) {
		vol, err := volumes.Get(ctx, v.sc, id).Extract()
		if gophercloud.ResponseCodeIs(err, 404) {
			return "gone", true, nil
		}
		if err != nil {
			return "", false, err
		}
		return vol.Status, false, nil
	})
	if err != nil {
		v.Fatal(err)
	}
}

// TestVolumeBackupKarborC1 is Karbor's C1 and C2 with the Cinder backup
// plugin: parameters per type and per volume; exactly one backup of the
// volume, named as asked, made from a temporary snapshot that is gone
// afterwards; a verification succeeds; deleting the checkpoint deletes
// the backup and the bank data.
func TestVolumeBackupKarborC1(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	v := newVolTest(t)
	vol := v.volume("c1")
	name := "volume-backup-" + vol.ID
	cp := v.protect(osInfra, obj{"OS::Cinder::Volume": obj{"backup_mode": "full", "force": false},
		"OS::Cinder::Volume#" + vol.ID: obj{"backup_name": name}}, model.CheckpointAvailable, vol).Str(t, "checkpoint", "id")

	r := v.p.call(t, "GET", "providers/"+osInfra+"/checkpoints/"+cp, nil).OK(t)
	if done, total := r.Get(t, "checkpoint", "progress", "bytes_done"), r.Get(t, "checkpoint", "progress", "bytes_total"); done != float64(1<<30) || total != float64(1<<30) {
		t.Errorf("progress: %v of %v bytes, want the volume's 1 GiB", done, total)
	}
	bs := v.backups(vol.ID)
	if len(bs) != 1 {
		t.Fatalf("%d backups of the volume, want 1: %+v", len(bs), bs)
	}
	b := bs[0]
	if b.Name != name || b.Status != "available" || b.IsIncremental || b.SnapshotID == "" {
		t.Errorf("backup %s: name %q status %s incremental %v snapshot %q; want %q, available, full, from a snapshot",
			b.ID, b.Name, b.Status, b.IsIncremental, b.SnapshotID, name)
	}
	if ss := v.snapshots(vol.ID); len(ss) != 0 {
		t.Errorf("snapshots left: %+v", ss)
	}
	var md map[string]any
	data, err := os.ReadFile(filepath.Join(v.p.DataDir, "bank", "karbor", "checkpoints", cp, "resource-data", vol.ID, "metadata"))
	if err == nil {
		err = json.Unmarshal(data, &md)
	}
	if err != nil || md["backup_id"] != b.ID || md["volume_id"] != vol.ID || md["snapshot_id"] != b.SnapshotID ||
		md["name"] != name || md["size"] != float64(1) || md["volume_name"] != vol.Name {
		t.Errorf("metadata %s (%v)", data, err)
	}

	id := v.p.call(t, "POST", "verifications", obj{"verification": obj{"provider_id": osInfra, "checkpoint_id": cp,
		"parameters": obj{}}}).OK(t).Str(t, "verification", "id")
	vr := v.p.wait(t, "verifications/"+id, "verification", time.Minute, model.RestoreSuccess, model.RestoreFail)
	if vr.Str(t, "verification", "status") != model.RestoreSuccess {
		t.Errorf("verification: %s", vr.Raw)
	}

	v.deleteCheckpoint(osInfra, cp)
	if bs := v.backups(vol.ID); len(bs) != 0 {
		t.Errorf("backups left after the delete: %+v", bs)
	}
}

// TestVolumeBackupRoundTrip: data written into a volume comes back from a
// full and then an incremental backup, after the volume is gone: into a
// new volume named after the original, and into an existing volume
// (volume_id) named as restore_name says.
func TestVolumeBackupRoundTrip(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	v := newVolTest(t)
	vol := v.volume("trip")
	v.fill(vol.ID, "first")
	full := v.protect(osInfra, obj{}, model.CheckpointAvailable, vol).Str(t, "checkpoint", "id")
	v.fill(vol.ID, "second")
	incr := v.protect(osInfra, obj{"OS::Cinder::Volume": obj{"backup_mode": "incremental"}}, model.CheckpointAvailable, vol).
		Str(t, "checkpoint", "id")
	if b := v.tagged(vol.ID, full); b.IsIncremental || b.Name != full+"@"+vol.ID {
		t.Errorf("first backup %s: incremental %v, name %q", b.ID, b.IsIncremental, b.Name)
	}
	if b := v.tagged(vol.ID, incr); !b.IsIncremental {
		t.Errorf("second backup %s is not incremental", b.ID)
	}
	if ss := v.snapshots(vol.ID); len(ss) != 0 {
		t.Errorf("snapshots left: %+v", ss)
	}
	v.deleteVolume(vol.ID)

	got := v.restore(osInfra, incr, nil)
	if got.Name != vol.Name || got.Size != vol.Size {
		t.Errorf("restored volume %q of %d GiB, want %q of %d", got.Name, got.Size, vol.Name, vol.Size)
	}
	v.holds(got.ID, "second")

	// Into an existing volume (restore parameter volume_id), renamed.
	target := v.volume("target")
	name := openstacktest.Name(t, "restored")
	got = v.restore(osInfra, full, obj{"OS::Cinder::Volume": obj{"volume_id": target.ID, "restore_name": name,
		"restore_description": "from the full backup"}})
	if got.ID != target.ID || got.Name != name || got.Description != "from the full backup" {
		t.Errorf("restored volume %s %q (%q), want %s %q", got.ID, got.Name, got.Description, target.ID, name)
	}
	v.holds(got.ID, "first")

	// The incremental backup depends on the full one: delete it first.
	v.deleteCheckpoint(osInfra, incr)
	v.deleteCheckpoint(osInfra, full)
	if bs := v.backups(vol.ID); len(bs) != 0 {
		t.Errorf("backups left after the deletes: %+v", bs)
	}
}

// TestVolumeBackupAttached: a volume attached to a server is backed up
// from a (Nova-assisted) snapshot, which is gone afterwards, and restores
// with its data.
func TestVolumeBackupAttached(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	v := newVolTest(t)
	vol := v.volume("attached")
	v.fill(vol.ID, "attached")
	net, _ := v.f.network(openstacktest.Name(t, "net"), "10.91.0.0/24")
	sv := v.f.server(openstacktest.Name(t, "server"), v.stack.Env["IMAGE_ID"], "", net.ID)
	v.f.attach(sv.ID, vol.ID)

	cp := v.protect(osInfra, obj{}, model.CheckpointAvailable, vol).Str(t, "checkpoint", "id")
	b := v.tagged(vol.ID, cp)
	if b.SnapshotID == "" || b.Status != "available" {
		t.Errorf("backup %s: snapshot %q, status %s; want one made from a snapshot, available", b.ID, b.SnapshotID, b.Status)
	}
	if ss := v.snapshots(vol.ID); len(ss) != 0 {
		t.Errorf("snapshots left: %+v", ss)
	}
	if cur, err := volumes.Get(t.Context(), v.sc, vol.ID).Extract(); err != nil || cur.Status != "in-use" {
		t.Errorf("volume after the backup: %v %v, want in-use", cur, err)
	}
	got := v.restore(osInfra, cp, nil)
	v.holds(got.ID, "attached")
	v.deleteCheckpoint(osInfra, cp)
	if bs := v.backups(vol.ID); len(bs) != 0 {
		t.Errorf("backups left after the delete: %+v", bs)
	}
}

// TestVolumeSnapshotKarborC9 is Karbor's C9 with the volume snapshot
// plugin, then a restore from the snapshot and the checkpoint's delete.
func TestVolumeSnapshotKarborC9(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	v := newVolTest(t)
	vol := v.volume("c9")
	v.fill(vol.ID, "snapshot")
	name := "volume-snapshot-" + vol.ID
	cp := v.protect(osSnapshot, obj{"OS::Cinder::Volume": obj{"force": false},
		"OS::Cinder::Volume#" + vol.ID: obj{"snapshot_name": name}}, model.CheckpointAvailable, vol).Str(t, "checkpoint", "id")
	ss := v.snapshots(vol.ID)
	if len(ss) != 1 || ss[0].Name != name || ss[0].Status != "available" || ss[0].Metadata["pouch_checkpoint"] != cp {
		t.Fatalf("snapshots of the volume: %+v, want one available named %s", ss, name)
	}
	if bs := v.backups(vol.ID); len(bs) != 0 {
		t.Errorf("the snapshot plugin made backups: %+v", bs)
	}

	got := v.restore(osSnapshot, cp, nil)
	if got.Name != vol.Name || got.Size != vol.Size || got.SnapshotID != ss[0].ID {
		t.Errorf("restored volume %q of %d GiB from snapshot %q, want %q of %d from %s", got.Name, got.Size,
			got.SnapshotID, vol.Name, vol.Size, ss[0].ID)
	}
	v.holds(got.ID, "snapshot")

	v.deleteCheckpoint(osSnapshot, cp)
	if ss := v.snapshots(vol.ID); len(ss) != 0 {
		t.Errorf("snapshots left after the delete: %+v", ss)
	}
}

// TestVolumeBackupFailure: in a plan of two volumes, Cinder fails one
// volume's backup (its container is a regular file the posix driver cannot
// make a directory of). The checkpoint ends in error with Cinder's reason
// for that volume; deleting it removes every backup and snapshot it made
// and its bank data.
func TestVolumeBackupFailure(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	v := newVolTest(t)
	good, bad := v.volume("good"), v.volume("bad")
	container := openstacktest.Name(t, "container")
	blocker := filepath.Join(v.stack.Env["CINDER_BACKUP_DIR"], container)
	if err := os.WriteFile(blocker, []byte("not a directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(blocker) })

	r := v.protect(osInfra, obj{"OS::Cinder::Volume#" + bad.ID: obj{"container": container}}, model.CheckpointError, good, bad)
	cp := r.Str(t, "checkpoint", "id")
	key := "OS::Cinder::Volume#" + bad.ID
	failed := v.tagged(bad.ID, cp)
	if failed.Status != "error" || !strings.Contains(failed.FailReason, container) {
		t.Errorf("backup of the bad volume: %s %q, want error naming %s", failed.Status, failed.FailReason, container)
	}
	if reason, _ := r.Get(t, "checkpoint", "resources_reason").(map[string]any)[key].(string); !strings.Contains(reason, failed.FailReason) {
		t.Errorf("checkpoint reason of %s: %q, want Cinder's %q", key, reason, failed.FailReason)
	}
	t.Logf("reason of %s: %s", key, r.Get(t, "checkpoint", "resources_reason").(map[string]any)[key])
	if st := r.Get(t, "checkpoint", "resources_status").(map[string]any)[key]; st != "error" {
		t.Errorf("checkpoint status of %s: %v", key, st)
	}
	logs := v.p.call(t, "GET", "operation_logs?checkpoint_id="+cp, nil).OK(t).List(t, "operation_logs")
	if len(logs) != 1 {
		t.Fatalf("operation logs of %s: %v", cp, logs)
	}
	if info, _ := logs[0].(map[string]any)["error_info"].(string); !strings.Contains(info, failed.FailReason) {
		t.Errorf("operation log error_info %q, want Cinder's %q", info, failed.FailReason)
	}
	// The posix driver's own account of the failure.
	if data, err := os.ReadFile(filepath.Join(v.stack.Env["LOG_DIR"], "cinder-backup.log")); err != nil || !bytes.Contains(data, []byte(blocker)) {
		t.Errorf("cinder-backup.log does not name %s (%v)", blocker, err)
	}
	made := len(v.backups(good.ID))
	if st := r.Get(t, "checkpoint", "resources_status").(map[string]any)["OS::Cinder::Volume#"+good.ID]; st == "available" && made != 1 {
		t.Errorf("the good volume is available in the checkpoint with %d backups", made)
	}
	t.Logf("good volume: %v, %d backup(s), %d snapshot(s) before the delete",
		r.Get(t, "checkpoint", "resources_status").(map[string]any)["OS::Cinder::Volume#"+good.ID], made, len(v.snapshots(good.ID)))

	v.deleteCheckpoint(osInfra, cp)
	for _, vol := range []*volumes.Volume{good, bad} {
		if bs := v.backups(vol.ID); len(bs) != 0 {
			t.Errorf("backups of %s left after the delete: %+v", vol.Name, bs)
		}
		if ss := v.snapshots(vol.ID); len(ss) != 0 {
			t.Errorf("snapshots of %s left after the delete: %+v", vol.Name, ss)
		}
	}
}

// TestVolumeRestoreFailure: a backup whose data chunks are gone from the
// backup store fails to restore; the restore fails with the volume in
// error, and the half-made volume is deleted.
func TestVolumeRestoreFailure(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	v := newVolTest(t)
	vol := v.volume("broken")
	cp := v.protect(osInfra, obj{}, model.CheckpointAvailable, vol).Str(t, "checkpoint", "id")
	b := v.tagged(vol.ID, cp)
	dir := filepath.Join(v.stack.Env["CINDER_BACKUP_DIR"], b.Container)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	removed := 0
	for _, e := range ents {
		if n := e.Name(); strings.Contains(n, b.ID) && !strings.HasSuffix(n, "_metadata") && !strings.HasSuffix(n, "_sha256file") {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				t.Fatal(err)
			}
			removed++
		}
	}
	if removed == 0 {
		t.Fatalf("no data chunk of backup %s in %s: %v", b.ID, dir, ents)
	}

	r := v.p.restore(t, osInfra, cp, nil, volRestoreLimit)
	st, _ := r.Get(t, "restore", "resources_status").(map[string]any)
	reasons, _ := r.Get(t, "restore", "resources_reason").(map[string]any)
	t.Logf("restore: %s", r.Raw)
	if r.Str(t, "restore", "status") != model.RestoreFail || st["OS::Cinder::Volume#"+vol.ID] != "error" {
		t.Fatalf("restore of a broken backup: %s", r.Raw)
	}
	var made string
	for k, s := range st {
		if id, ok := strings.CutPrefix(k, "OS::Cinder::Volume#"); ok && id != vol.ID {
			made = id
			if s != "error" || !strings.Contains(fmt.Sprint(reasons[k]), "error") {
				t.Errorf("new volume %s: %v (%v), want error with a reason", id, s, reasons[k])
			}
		}
	}
	if made == "" {
		t.Fatalf("no new volume reported: %s", r.Raw)
	}
	err = v.f.poll.Wait(t.Context(), "half-made volume "+made+" gone", func(ctx context.Context) (string, bool, error) {
		got, err := volumes.Get(ctx, v.sc, made).Extract()
		if gophercloud.ResponseCodeIs(err, 404) {
			return "gone", true, nil
		}
		if err != nil {
			return "", false, err
		}
		return got.Status, false, nil
	})
	if err != nil {
		v.f.deleteVolume(made)
		t.Error(err)
	}
	v.deleteCheckpoint(osInfra, cp)
}
