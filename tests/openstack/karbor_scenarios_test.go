package openstack_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/pouchdp/pouch/plugins/openstack/network"
	"github.com/pouchdp/pouch/tests/pouchtest"
)

// backupsOf lists the Cinder backups of a volume (name → count).
func (f *fixtures) backupsOf(volume string) map[string]int {
	f.t.Helper()
	sc, err := f.cl.BlockStorage()
	f.must(err, "block storage")
	pages, err := backups.ListDetail(sc, backups.ListDetailOpts{}).AllPages(f.t.Context())
	f.must(err, "list backups")
	all, err := backups.ExtractBackups(pages)
	f.must(err, "list backups")
	out := map[string]int{}
	for _, b := range all {
		if b.VolumeID == volume && b.Status != "deleting" {
			out[b.Name]++
		}
	}
	return out
}

// snapshotsOf lists the Cinder snapshots of a volume (name → count).
func (f *fixtures) snapshotsOf(volume string) map[string]int {
	f.t.Helper()
	sc, err := f.cl.BlockStorage()
	f.must(err, "block storage")
	pages, err := snapshots.List(sc, snapshots.ListOpts{VolumeID: volume}).AllPages(f.t.Context())
	f.must(err, "list snapshots")
	all, err := snapshots.ExtractSnapshots(pages)
	f.must(err, "list snapshots")
	out := map[string]int{}
	for _, s := range all {
		if s.Status != "deleting" {
			out[s.Name]++
		}
	}
	return out
}

func total(m map[string]int) (n int) {
	for _, c := range m {
		n += c
	}
	return n
}

func volumeItem(id, name string) string { return id + "=OS::Cinder::Volume=" + name }

// volumeCheckpoint makes a 1 GiB volume, a plan of it with provider and
// the parameters params gives for its id (nil: none), and an available
// checkpoint, deleted (if still there) when t ends.
func (k *karbor) volumeCheckpoint(t *testing.T, f *fixtures, provider string, params func(id string) map[string]any) (*volumes.Volume, string) {
	t.Helper()
	vol := f.volume(t.Name()+"-vol", 1, "")
	var p map[string]any
	if params != nil {
		p = params(vol.ID)
	}
	cp := k.protect(t, provider, k.planCreate(t, provider, []string{volumeItem(vol.ID, vol.Name)}, p))
	t.Cleanup(func() { k.exec(t, "openstack", "data", "protection", "checkpoint", "delete", provider, cp) })
	return vol, cp
}

// TestKarborCheckpoints are Karbor's fullstack C1 (checkpoint create with
// backup parameters: one backup, named as asked), C4 (checkpoint show) and
// C2 (checkpoint delete), with the OS Infra Provider on its Swift bank.
func TestKarborCheckpoints(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	k := needKarbor(t)
	f := newFixtures(t, k.stack)
	vol, cp := k.volumeCheckpoint(t, f, osInfraSwift, func(id string) map[string]any {
		return map[string]any{"OS::Cinder::Volume": map[string]any{"backup_mode": "full", "force": false},
			"OS::Cinder::Volume#" + id: map[string]any{"backup_name": "volume-backup-" + id}}
	})
	t.Run("C1", func(t *testing.T) {
		got := f.backupsOf(vol.ID)
		if total(got) != 1 || got["volume-backup-"+vol.ID] != 1 {
			t.Errorf("backups of the volume: %v, want exactly one named volume-backup-%s", got, vol.ID)
		}
	})
	t.Run("C4", func(t *testing.T) {
		var got map[string]any
		k.osc(t, &got, "checkpoint", "show", osInfraSwift, cp)
		if got["id"] != cp || got["status"] != "available" {
			t.Errorf("checkpoint show: %v", got)
		}
	})
	t.Run("C2", func(t *testing.T) {
		k.run(t, "openstack", "data", "protection", "checkpoint", "delete", osInfraSwift, cp)
		k.waitCheckpoint(t, osInfraSwift, cp, 10*time.Minute, "deleted")
		var list []map[string]any
		k.osc(t, &list, "checkpoint", "list", osInfraSwift)
		for _, c := range list {
			if c["Id"] == cp {
				t.Errorf("deleted checkpoint %s still listed: %v", cp, c)
			}
		}
		if got := f.backupsOf(vol.ID); total(got) != 0 {
			t.Errorf("backups left after the delete: %v", got)
		}
	})
}

// TestKarborBootFromVolume is Karbor's C7: a server booted from a volume
// with another volume attached; a plan of the server alone backs up both
// volumes (its dependencies).
func TestKarborBootFromVolume(t *testing.T) {
	k := needKarbor(t)
	f := newFixtures(t, k.stack)
	boot := f.volume(t.Name()+"-boot", 1, k.stack.Env["IMAGE_ID"])
	data := f.volume(t.Name()+"-data", 1, "")
	net, _ := f.network(t.Name()+"-net", "10.62.0.0/24")
	srv := f.server(t.Name()+"-srv", "", boot.ID, net.ID)
	f.attach(srv.ID, data.ID)
	plan := k.planCreate(t, osInfraSwift, []string{srv.ID + "=OS::Nova::Server=" + srv.Name}, nil)
	cp := k.protect(t, osInfraSwift, plan)
	t.Cleanup(func() { k.exec(t, "openstack", "data", "protection", "checkpoint", "delete", osInfraSwift, cp) })
	var list []map[string]any
	k.osc(t, &list, "checkpoint", "list", osInfraSwift)
	if !slices.ContainsFunc(list, func(c map[string]any) bool { return c["Id"] == cp }) {
		t.Errorf("checkpoint %s not listed", cp)
	}
	for _, v := range []string{boot.ID, data.ID} {
		if got := f.backupsOf(v); total(got) != 1 {
			t.Errorf("backups of volume %s: %v, want 1", v, got)
		}
	}
}

// TestKarborVolumeSnapshot is Karbor's C9: the volume snapshot provider
// makes one snapshot, named as asked.
func TestKarborVolumeSnapshot(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	k := needKarbor(t)
	f := newFixtures(t, k.stack)
	vol, cp := k.volumeCheckpoint(t, f, osSnapshot, func(id string) map[string]any {
		return map[string]any{"OS::Cinder::Volume": map[string]any{"force": false},
			"OS::Cinder::Volume#" + id: map[string]any{"snapshot_name": "volume-snapshot-" + id}}
	})
	got := f.snapshotsOf(vol.ID)
	if total(got) != 1 || got["volume-snapshot-"+vol.ID] != 1 {
		t.Errorf("snapshots of the volume: %v, want exactly one named volume-snapshot-%s", got, vol.ID)
	}
	k.run(t, "openstack", "data", "protection", "checkpoint", "delete", osSnapshot, cp)
	k.waitCheckpoint(t, osSnapshot, cp, 10*time.Minute, "deleted")
	if got := f.snapshotsOf(vol.ID); total(got) != 0 {
		t.Errorf("snapshots left after the delete: %v", got)
	}
}

// TestKarborRestoreVolume is Karbor's R5: a restore of a volume plan
// succeeds with exactly one resources_status entry, the new volume's.
func TestKarborRestoreVolume(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	k := needKarbor(t)
	f := newFixtures(t, k.stack)
	vol, cp := k.volumeCheckpoint(t, f, osInfraSwift, nil)
	status := k.restore(t, osInfraSwift, cp, nil)
	for key := range status {
		if id, ok := strings.CutPrefix(key, "OS::Cinder::Volume#"); ok {
			t.Cleanup(func() { f.deleteVolume(id) })
		}
	}
	if len(status) != 1 {
		t.Fatalf("resources_status %v: want one entry", status)
	}
	for key, st := range status {
		if !strings.HasPrefix(key, "OS::Cinder::Volume#") || key == "OS::Cinder::Volume#"+vol.ID || st != "available" {
			t.Errorf("resources_status %v: want the NEW volume available", status)
		}
	}
}

// TestKarborRestoreNetwork is Karbor's R6: a network is protected, deleted
// and restored.
func TestKarborRestoreNetwork(t *testing.T) {
	k := needKarbor(t)
	f := newFixtures(t, k.stack)
	net, _ := f.network(t.Name()+"-net", "10.63.0.0/24")
	project := k.stack.Env["DEMO_PROJECT_ID"]
	plan := k.planCreate(t, osInfraSwift, []string{project + "=OS::Neutron::Network=Network Topology"}, nil)
	cp := k.protect(t, osInfraSwift, plan)
	t.Cleanup(func() { k.exec(t, "openstack", "data", "protection", "checkpoint", "delete", osInfraSwift, cp) })
	sc, err := f.cl.Network()
	f.must(err, "network")
	f.must(networks.Delete(t.Context(), sc, net.ID).ExtractErr(), "delete the network")
	// The restore copies every network of the shared demo project: delete
	// them all, with the routers and groups made for them.
	n := newNeutronT(t, f.cl)
	before := n.projectIDs(project)
	var nets []string
	t.Cleanup(func() { n.purgeRestored(project, &network.Topology{}, before, nets) })
	status := k.restore(t, osInfraSwift, cp, nil)
	restored := ""
	for key := range status {
		if id, ok := strings.CutPrefix(key, "OS::Neutron::Network#"); ok {
			nets = append(nets, id)
			if got, err := networks.Get(t.Context(), sc, id).Extract(); err == nil && got.Name == net.Name {
				restored = id
			}
		}
	}
	if restored == "" {
		t.Errorf("no network named %s among the restored ones %v", net.Name, status)
	}
}

// TestKarborRestoreTarget: a restore with restore_target and restore_auth
// (the legacy client's --restore_target/--restore_username/--restore_password)
// logs in to that Keystone and acts with the token it gets; wrong
// credentials fail the restore with the reason, before any hook runs.
func TestKarborRestoreTarget(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	k := needKarbor(t)
	f := newFixtures(t, k.stack)
	_, cp := k.volumeCheckpoint(t, f, osInfraSwift, nil)
	for _, tc := range []struct {
		name, password, status, reason string
	}{
		{"good credentials", k.stack.Env["DEMO_PASSWORD"], "success", ""},
		{"wrong password", "not-the-password", "fail", "keystone refused the credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := k.run(t, "karbor", "restore-create", osInfraSwift, cp, "--restore_target", k.stack.Env["KEYSTONE_URL"],
				"--restore_username", k.stack.Env["DEMO_USER"], "--restore_password", tc.password)
			id := tableValue(t, out, "id")
			var rs map[string]any
			pouchtest.WaitFor(t, "restore "+id, 5*time.Minute, func() (string, bool) {
				k.osc(t, &rs, "restore", "show", id)
				st := fmt.Sprint(rs["status"])
				return st, st == "success" || st == "fail"
			})
			var status, reasons map[string]string
			if err := decodeField(rs["resources_status"], &status); err != nil {
				t.Fatal(err)
			}
			if err := decodeField(rs["resources_reason"], &reasons); err != nil {
				t.Fatal(err)
			}
			if rs["status"] != tc.status || rs["restore_target"] != k.stack.Env["KEYSTONE_URL"] {
				t.Fatalf("restore %v, want %s", rs, tc.status)
			}
			for key := range status {
				if id, ok := strings.CutPrefix(key, "OS::Cinder::Volume#"); ok {
					t.Cleanup(func() { f.deleteVolume(id) })
				}
			}
			if tc.status == "success" && (len(status) != 1 || !slices.Contains(slices.Collect(maps.Values(status)), "available")) {
				t.Errorf("resources_status %v: want the restored volume available", status)
			}
			if tc.reason != "" && !strings.Contains(reasons["restore"], tc.reason) {
				t.Errorf("resources_reason %v: want %q", reasons, tc.reason)
			}
		})
	}
}

// tableValue reads a field of the legacy client's "| Property | Value |"
// table.
func tableValue(t *testing.T, out, field string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) >= 3 && strings.TrimSpace(cells[1]) == field {
			return strings.TrimSpace(cells[2])
		}
	}
	t.Fatalf("no %s in:\n%s", field, out)
	return ""
}
