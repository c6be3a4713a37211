package openstack_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/bank/fsbank"
	"github.com/pouchdp/pouch/plugins/openstack"
	"github.com/pouchdp/pouch/plugins/openstack/image"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/tests/apitest"
	"github.com/pouchdp/pouch/tests/openstacktest"
)

// imageTestProvider protects images only, in 1 MiB objects, into an fs
// bank: a few MiB make several chunks.
const imageTestProvider = "5f0c3e9a-7b1d-4c2e-9a8f-3d6b2e1c4a70"

// imageProviderConf is a provider file of the image plugin alone with
// objects of objectSize bytes, its bank given by bankLine and bankConf.
func imageProviderConf(id string, objectSize int64, bankLine, bankConf string) string {
	return fmt.Sprintf(`[provider]
name = Image provider %s
description = Glance images only
id = %s
plugin = karbor-image-protection-plugin
%s
enabled = True

[openstack_client]
auth_url = ${OS_AUTH_URL:-}
region_name = ${OS_REGION_NAME:-}

[image_backup_plugin]
poll_interval = 1
backup_image_object_size = %d

%s`, id, id, bankLine, objectSize, bankConf)
}

func imageFSProvider() map[string]string {
	return map[string]string{"image-test.conf": imageProviderConf(imageTestProvider, 1<<20, "bank = pouch-fs-bank-plugin",
		"[file_system_bank_plugin]\nfile_system_bank_path = ${POUCH_DATA_DIR}/image-bank\n")}
}

// imageGlance is Glance as the demo user, without the API call time limit
// (uploads of a GiB take longer).
func imageGlance(tb testing.TB, s *openstacktest.Stack) *gophercloud.ServiceClient {
	tb.Helper()
	cl := s.Demo(tb)
	cl.Provider.HTTPClient.Timeout = 0
	sc, err := cl.Image()
	if err != nil {
		tb.Fatal(err)
	}
	return sc
}

// imageRandom is n pseudo-random bytes from seed.
func imageRandom(seed uint64, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 'p', 'o', 'u', 'c', 'h'}), n)
}

// imageCreate creates an image as opts says, uploads data, waits until it
// is active, and deletes it when the test ends.
func imageCreate(tb testing.TB, sc *gophercloud.ServiceClient, opts images.CreateOpts, data io.Reader) *images.Image {
	tb.Helper()
	ctx := context.Background()
	im, err := images.Create(ctx, sc, opts).Extract()
	if err != nil {
		tb.Fatalf("create image %s: %v", opts.Name, err)
	}
	tb.Cleanup(func() { imageDelete(sc, im.ID) })
	if err := imagedata.Upload(ctx, sc, im.ID, data).ExtractErr(); err != nil {
		tb.Fatalf("upload image %s: %v", opts.Name, err)
	}
	return imageWait(tb, sc, im.ID)
}

func imageWait(tb testing.TB, sc *gophercloud.ServiceClient, id string) *images.Image {
	tb.Helper()
	var im *images.Image
	poll := openstack.Poll{Interval: time.Second, Timeout: 5 * time.Minute}
	err := poll.Wait(context.Background(), "image "+id+" active", func(ctx context.Context) (string, bool, error) {
		got, err := images.Get(ctx, sc, id).Extract()
		if err != nil {
			return "", false, err
		}
		im = got
		return string(got.Status), got.Status == images.ImageStatusActive, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return im
}

// imageDelete deletes an image, unprotecting it first; a missing one is
// fine.
func imageDelete(sc *gophercloud.ServiceClient, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	images.Update(ctx, sc, id, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: false}})
	images.Delete(ctx, sc, id)
}

func imageDownload(t *testing.T, sc *gophercloud.ServiceClient, id string) []byte {
	t.Helper()
	rc, err := imagedata.Download(t.Context(), sc, id).Extract()
	if err != nil {
		t.Fatalf("download image %s: %v", id, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("download image %s: %v", id, err)
	}
	return data
}

// imageSection lists the objects of resource id in checkpoint cp, relative
// to its section.
func imageSection(t *testing.T, b bank.Bank, cp, id string) []string {
	t.Helper()
	prefix := protection.ResourceDataKey(cp, id, "") + "/"
	keys, err := b.List(t.Context(), bank.ListOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		keys[i] = strings.TrimPrefix(keys[i], prefix)
	}
	return keys
}

func imageMetadata(t *testing.T, b bank.Bank, cp, id string) image.Metadata {
	t.Helper()
	var md image.Metadata
	if err := bank.GetJSON(t.Context(), b, protection.ResourceDataKey(cp, id, "metadata"), &md); err != nil {
		t.Fatal(err)
	}
	return md
}

// imageRestored is the one new image a restore of orig reports in
// resources_status, with its status and reason. (A failed restore also
// has the engine's entry of orig.)
func imageRestored(t *testing.T, r *apitest.Response, orig string) (id, status, reason string) {
	t.Helper()
	rs, _ := r.Get(t, "restore", "resources_status").(map[string]any)
	if r.Str(t, "restore", "status") == model.RestoreFail {
		delete(rs, openstack.TypeImage+"#"+orig)
	}
	if len(rs) != 1 {
		t.Fatalf("resources_status %v, want one new image: %s", rs, r.Raw)
	}
	for k, v := range rs {
		var ok bool
		if id, ok = strings.CutPrefix(k, openstack.TypeImage+"#"); !ok {
			t.Fatalf("resources_status key %q, want %s#<new id>", k, openstack.TypeImage)
		}
		status, _ = v.(string)
		if reasons, ok := r.Get(t, "restore").(map[string]any)["resources_reason"].(map[string]any); ok {
			reason, _ = reasons[k].(string)
		}
	}
	return id, status, reason
}

// verify runs a verification of cp and returns its final view.
func (p *pouch) imageVerify(t *testing.T, provider, cp string) *apitest.Response {
	t.Helper()
	id := p.call(t, "POST", "verifications", obj{"verification": obj{"provider_id": provider, "checkpoint_id": cp}}).
		OK(t).Str(t, "verification", "id")
	return p.wait(t, "verifications/"+id, "verification", 2*time.Minute, model.RestoreSuccess, model.RestoreFail)
}

// TestImageProtectRestore: an image of 3.5 MiB of random data is protected
// in four 1 MiB chunks, verified, deleted from Glance, restored twice (its
// own name, then restore_name) with the same bytes, sums, formats and
// properties; deleting the checkpoint leaves no data (the plugin deletes
// it, the engine then the section).
func TestImageProtectRestore(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	s := openstacktest.Start(t)
	p := newPouch(t, s, imageFSProvider())
	sc := imageGlance(t, s)
	const size = 3<<20 + 512<<10
	data, _ := io.ReadAll(imageRandom(1, size))
	name := openstacktest.Name(t, "image")
	shared := images.ImageVisibilityShared
	orig := imageCreate(t, sc, images.CreateOpts{Name: name, DiskFormat: "qcow2", ContainerFormat: "bare", Visibility: &shared,
		Tags: []string{"pouch", "image-test"}, MinDisk: 1, MinRAM: 64,
		Properties: map[string]string{"pouch_test": "protect-restore", "os_distro": "debian"}}, bytes.NewReader(data))

	plan := p.plan(t, imageTestProvider, []model.Resource{{ID: orig.ID, Type: openstack.TypeImage, Name: name}}, nil)
	cp := p.protect(t, imageTestProvider, plan, 3*time.Minute)
	cpID := cp.Str(t, "checkpoint", "id")
	if st := cp.Str(t, "checkpoint", "status"); st != model.CheckpointAvailable {
		t.Fatalf("checkpoint %s: %s", st, cp.Raw)
	}
	b := p.bank(t, imageTestProvider)
	if got, want := imageSection(t, b, cpID, orig.ID), []string{"data_1", "data_2", "data_3", "data_4", "metadata", "status"}; !slices.Equal(got, want) {
		t.Errorf("bank objects %v, want %v", got, want)
	}
	md := imageMetadata(t, b, cpID, orig.ID)
	sum := md5.Sum(data)
	im := md.ImageMetadata
	if md.ResourceID != orig.ID || md.ServerID != "" || md.ChunksNum != 4 || md.ChunkSize != 1<<20 ||
		im.Checksum != hex.EncodeToString(sum[:]) || im.Checksum != orig.Checksum || im.Size != size || im.Name != name ||
		im.DiskFormat != "qcow2" || im.ContainerFormat != "bare" || im.OSHashAlgo != "sha512" ||
		im.OSHashValue != orig.Properties["os_hash_value"] || im.Visibility != "shared" || im.MinDisk != 1 || im.MinRAM != 64 ||
		im.Properties["pouch_test"] != "protect-restore" || im.Properties["os_distro"] != "debian" || len(im.Tags) != 2 {
		t.Errorf("metadata %+v", md)
	}
	if _, ok := im.Properties["os_hash_value"]; ok {
		t.Errorf("Glance's own os_hash_value saved among the user's properties: %v", im.Properties)
	}
	if v := p.imageVerify(t, imageTestProvider, cpID); v.Str(t, "verification", "status") != model.RestoreSuccess ||
		v.Str(t, "verification", "resources_status", openstack.TypeImage+"#"+orig.ID) != openstack.StatusAvailable {
		t.Errorf("verification of an intact checkpoint: %s", v.Raw)
	}

	if err := images.Delete(t.Context(), sc, orig.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		params obj
		name   string
	}{
		{nil, name},
		{obj{openstack.TypeImage: obj{"restore_name": name + "-renamed"}}, name + "-renamed"},
	} {
		r := p.restore(t, imageTestProvider, cpID, tc.params, 3*time.Minute)
		newID, status, _ := imageRestored(t, r, orig.ID)
		t.Cleanup(func() { imageDelete(sc, newID) })
		if st := r.Str(t, "restore", "status"); st != model.RestoreSuccess || status != openstack.RestoreAvailable {
			t.Fatalf("restore %s, image %s: %s", st, status, r.Raw)
		}
		got, err := images.Get(t.Context(), sc, newID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got.Tags)
		if got.Status != images.ImageStatusActive || got.Name != tc.name || got.Checksum != orig.Checksum ||
			got.SizeBytes != size || got.DiskFormat != "qcow2" || got.ContainerFormat != "bare" ||
			got.Visibility != images.ImageVisibilityShared || got.MinDiskGigabytes != 1 || got.MinRAMMegabytes != 64 ||
			!slices.Equal(got.Tags, []string{"image-test", "pouch"}) ||
			got.Properties["pouch_test"] != "protect-restore" || got.Properties["os_distro"] != "debian" ||
			got.Properties["os_hash_value"] != orig.Properties["os_hash_value"] {
			t.Errorf("restored image %+v, original %+v", got, orig)
		}
		if !bytes.Equal(imageDownload(t, sc, newID), data) {
			t.Errorf("restored image %s does not hold the original bytes", newID)
		}
	}

	d := p.deleteCheckpoint(t, imageTestProvider, cpID, 2*time.Minute)
	if st := d.Str(t, "checkpoint", "status"); st != model.CheckpointDeleted {
		t.Fatalf("checkpoint delete: %s", d.Raw)
	}
	if got := imageSection(t, b, cpID, orig.ID); len(got) != 0 {
		t.Errorf("after delete the bank holds %v", got)
	}
}

// TestImageServerSnapshot: an image reached through a server is protected
// as a snapshot of that server (the test stack's fake disk), which is gone
// afterwards; its restore holds the same bytes.
func TestImageServerSnapshot(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	s := openstacktest.Start(t)
	p := newPouch(t, s, imageFSProvider())
	demo := s.Demo(t)
	sc := imageGlance(t, s)
	server := imageServer(t, s, demo, openstacktest.Name(t, "image-server"))
	res := model.Resource{ID: s.Env["IMAGE_ID"], Type: openstack.TypeImage, Name: s.Env["IMAGE_NAME"],
		ExtraInfo: map[string]any{"server_id": server}}
	plan := p.plan(t, imageTestProvider, []model.Resource{res}, nil)
	cp := p.protect(t, imageTestProvider, plan, 3*time.Minute)
	cpID := cp.Str(t, "checkpoint", "id")
	t.Cleanup(func() { p.deleteCheckpoint(t, imageTestProvider, cpID, 2*time.Minute) })
	if st := cp.Str(t, "checkpoint", "status"); st != model.CheckpointAvailable {
		t.Fatalf("checkpoint %s: %s", st, cp.Raw)
	}

	// The fake driver's disk of the server (pouch_fake_virt.snapshot_data).
	line := []byte("pouch fake disk of server " + server + "\n")
	want := bytes.Repeat(line, 64<<10/len(line)+1)[:64<<10]
	b := p.bank(t, imageTestProvider)
	md := imageMetadata(t, b, cpID, res.ID)
	sum := md5.Sum(want)
	if md.ServerID != server || md.ResourceID != res.ID || md.ChunksNum != 1 || md.ImageMetadata.Size != int64(len(want)) ||
		md.ImageMetadata.Checksum != hex.EncodeToString(sum[:]) || md.ImageMetadata.Name != res.Name {
		t.Errorf("metadata %+v", md)
	}
	got, err := bank.GetBytes(t.Context(), b, protection.ResourceDataKey(cpID, res.ID, "data_1"))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("data_1 (%v): %d bytes, not the server's fake disk", err, len(got))
	}
	pages, err := images.List(sc, images.ListOpts{Name: image.SnapshotPrefix + server}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := images.ExtractImages(pages); len(left) != 0 {
		t.Errorf("temporary snapshot left: %v", left[0].ID)
	}

	r := p.restore(t, imageTestProvider, cpID, nil, 3*time.Minute)
	newID, status, _ := imageRestored(t, r, res.ID)
	t.Cleanup(func() { imageDelete(sc, newID) })
	if r.Str(t, "restore", "status") != model.RestoreSuccess || status != openstack.RestoreAvailable {
		t.Fatalf("restore: %s", r.Raw)
	}
	if !bytes.Equal(imageDownload(t, sc, newID), want) {
		t.Errorf("restored image %s does not hold the server's disk", newID)
	}
}

// imageServer boots a server from the stack's image, without a network,
// waits until it is ACTIVE and deletes it when the test ends.
func imageServer(t *testing.T, s *openstacktest.Stack, cl *openstack.Clients, name string) string {
	t.Helper()
	cc, err := cl.Compute()
	if err != nil {
		t.Fatal(err)
	}
	cc.Microversion = "2.37" // networks "none"
	sv, err := servers.Create(t.Context(), cc, servers.CreateOpts{Name: name, ImageRef: s.Env["IMAGE_ID"],
		FlavorRef: s.Env["FLAVOR_ID"], Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatalf("create server: %v", err)
	}
	poll := openstack.Poll{Interval: time.Second, Timeout: 5 * time.Minute}
	t.Cleanup(func() {
		ctx := context.Background()
		if err := servers.Delete(ctx, cc, sv.ID).ExtractErr(); err != nil {
			return
		}
		poll.Wait(ctx, "server "+sv.ID+" gone", func(ctx context.Context) (string, bool, error) {
			_, err := servers.Get(ctx, cc, sv.ID).Extract()
			return "", openstack.IsNotFound(err), nil
		})
	})
	err = poll.Wait(t.Context(), "server "+name+" ACTIVE", func(ctx context.Context) (string, bool, error) {
		got, err := servers.Get(ctx, cc, sv.ID).Extract()
		if err != nil {
			return "", false, err
		}
		if got.Status == "ERROR" {
			return got.Status, false, fmt.Errorf("server %s: ERROR: %v", name, got.Fault)
		}
		return got.Status, got.Status == "ACTIVE", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sv.ID
}

// TestImageCorruptChunk: a chunk overwritten in the bank fails the restore
// (no image left behind, the reason in resources_reason) and the
// verification; a missing chunk fails the verification.
func TestImageCorruptChunk(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	s := openstacktest.Start(t)
	p := newPouch(t, s, imageFSProvider())
	sc := imageGlance(t, s)
	name := openstacktest.Name(t, "image-corrupt")
	orig := imageCreate(t, sc, images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare"},
		imageRandom(2, 2<<20+100))
	plan := p.plan(t, imageTestProvider, []model.Resource{{ID: orig.ID, Type: openstack.TypeImage, Name: name}}, nil)
	cp := p.protect(t, imageTestProvider, plan, 3*time.Minute)
	cpID := cp.Str(t, "checkpoint", "id")
	t.Cleanup(func() { p.deleteCheckpoint(t, imageTestProvider, cpID, 2*time.Minute) })
	if st := cp.Str(t, "checkpoint", "status"); st != model.CheckpointAvailable {
		t.Fatalf("checkpoint %s: %s", st, cp.Raw)
	}
	b := p.bank(t, imageTestProvider)
	// Same size, other bytes: only the sums can tell.
	if err := b.Put(t.Context(), protection.ResourceDataKey(cpID, orig.ID, "data_2"), imageRandom(3, 1<<20)); err != nil {
		t.Fatal(err)
	}

	r := p.restore(t, imageTestProvider, cpID, obj{openstack.TypeImage: obj{"restore_name": name + "-restored"}}, 3*time.Minute)
	newID, status, reason := imageRestored(t, r, orig.ID)
	t.Cleanup(func() { imageDelete(sc, newID) })
	if r.Str(t, "restore", "status") != model.RestoreFail || status != openstack.RestoreError ||
		!strings.Contains(reason, "corrupt") || !strings.Contains(reason, "MD5") {
		t.Errorf("restore of a corrupt chunk: %s", r.Raw)
	}
	if _, err := images.Get(t.Context(), sc, newID).Extract(); !openstack.IsNotFound(err) {
		t.Errorf("the failed restore's image %s: %v, want it deleted", newID, err)
	}

	for _, step := range []struct {
		name string
		want string
		do   func() error
	}{
		{"corrupt data_2", "MD5", func() error { return nil }},
		{"data_3 missing", "data_3 is missing", func() error {
			return b.Delete(t.Context(), protection.ResourceDataKey(cpID, orig.ID, "data_3"))
		}},
	} {
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		v := p.imageVerify(t, imageTestProvider, cpID)
		key := openstack.TypeImage + "#" + orig.ID
		reason, _ := v.Get(t, "verification", "resources_reason").(map[string]any)[key].(string)
		if v.Str(t, "verification", "status") != model.RestoreFail ||
			v.Str(t, "verification", "resources_status", key) != openstack.StatusError || !strings.Contains(reason, step.want) {
			t.Errorf("%s: verification %s, want fail with %q", step.name, v.Raw, step.want)
		}
	}
}

// imageHooks runs the image plugin's hooks directly, with the engine's
// side (bank, new_resources, resources_status, progress) in memory and an
// fs bank, acting in the stack as its demo user.
type imageHooks struct {
	plugin protection.Plugin
	bank   bank.Bank
	cp     string
	newRes map[string]string
	status map[string]string
	done   atomic.Int64
}

func newImageHooks(t *testing.T, s *openstacktest.Stack, objectSize int64) *imageHooks {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "p.conf")
	text := fmt.Sprintf("[openstack_client]\nauth_url = %s\n\n[image_backup_plugin]\npoll_interval = 1\nbackup_image_object_size = %d\n",
		s.Env["OS_AUTH_URL"], objectSize)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := conf.LoadWithEnv(path, s.DemoLookup)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := image.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fsbank.New(dir, "bank")
	if err != nil {
		t.Fatal(err)
	}
	return &imageHooks{plugin: pl, bank: b, cp: uuid.NewString(), newRes: map[string]string{}, status: map[string]string{}}
}

// run runs the main hook of op on r as attempt attempt.
func (h *imageHooks) run(t *testing.T, op model.OperationType, r model.Resource, attempt int, params map[string]any) error {
	t.Helper()
	o, err := h.plugin.Operation(op, r)
	if err != nil {
		t.Fatal(err)
	}
	return o.Main(t.Context(), &protection.HookContext{Operation: op, Hook: protection.Main, Resource: r,
		Parameters: params, CheckpointID: h.cp, Bank: h.bank, Progress: h, NewResources: h, Status: h,
		Log: apitest.Logger(), Attempt: attempt})
}

func (h *imageHooks) AddTotal(int64)  {}
func (h *imageHooks) AddDone(n int64) { h.done.Add(n) }
func (h *imageHooks) Get(_ context.Context, id string) (string, bool, error) {
	v, ok := h.newRes[id]
	return v, ok, nil
}
func (h *imageHooks) Set(_ context.Context, id, newID string) error { h.newRes[id] = newID; return nil }
func (h *imageHooks) ReportStatus(_ context.Context, key, status, _ string) error {
	h.status[key] = status
	return nil
}

// TestImageRetriedAttempts: a protect run again leaves only its own
// chunks (an earlier attempt's smaller ones are gone); a restore run again
// after a crash fills the empty image the first attempt created, keeps a
// complete one, and replaces (deletes) one it cannot use.
func TestImageRetriedAttempts(t *testing.T) {
	t.Parallel() // touches no network topology: see main_test.go
	s := openstacktest.Start(t)
	sc := imageGlance(t, s)
	data, _ := io.ReadAll(imageRandom(4, 2<<20+4096))
	name := openstacktest.Name(t, "image-retry")
	orig := imageCreate(t, sc, images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare"}, bytes.NewReader(data))
	res := model.Resource{ID: orig.ID, Type: openstack.TypeImage, Name: name}

	small := newImageHooks(t, s, 64<<10)
	if err := small.run(t, model.OpProtect, res, 1, nil); err != nil {
		t.Fatalf("protect in 64 KiB chunks: %v", err)
	}
	if n := len(imageSection(t, small.bank, small.cp, res.ID)); n != 35 {
		t.Fatalf("64 KiB chunks: %d objects, want 33 chunks, metadata, status", n)
	}
	h := newImageHooks(t, s, 1<<20)
	h.bank, h.cp = small.bank, small.cp // the same checkpoint, another object size
	if err := h.run(t, model.OpProtect, res, 2, nil); err != nil {
		t.Fatalf("protect again: %v", err)
	}
	if got, want := imageSection(t, h.bank, h.cp, res.ID), []string{"data_1", "data_2", "data_3", "metadata", "status"}; !slices.Equal(got, want) {
		t.Fatalf("after the second attempt: %v, want %v", got, want)
	}

	restore := func(what string) string {
		t.Helper()
		h.status = map[string]string{}
		if err := h.run(t, model.OpRestore, res, 2, nil); err != nil {
			t.Fatalf("%s: restore: %v", what, err)
		}
		id := h.newRes[res.ID]
		t.Cleanup(func() { imageDelete(sc, id) })
		if h.status[openstack.TypeImage+"#"+id] != openstack.RestoreAvailable {
			t.Errorf("%s: resources_status %v", what, h.status)
		}
		if !bytes.Equal(imageDownload(t, sc, id), data) {
			t.Errorf("%s: image %s does not hold the data", what, id)
		}
		return id
	}

	// The first attempt created the image and crashed.
	queued, err := images.Create(t.Context(), sc, images.CreateOpts{Name: name + "-queued", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	h.newRes[res.ID] = queued.ID
	if id := restore("empty image"); id != queued.ID || len(h.status) != 1 {
		t.Errorf("empty image: restored into %s, want the earlier attempt's %s; status %v", id, queued.ID, h.status)
	}
	// The first attempt completed the image and crashed.
	if id := restore("complete image"); id != queued.ID || len(h.status) != 1 {
		t.Errorf("complete image: restored into %s, want the earlier attempt's %s; status %v", id, queued.ID, h.status)
	}
	// The first attempt left an image of other bytes.
	other := imageCreate(t, sc, images.CreateOpts{Name: name + "-other", DiskFormat: "raw", ContainerFormat: "bare"},
		strings.NewReader("not the image"))
	h.newRes[res.ID] = other.ID
	if id := restore("unusable image"); id == other.ID || h.status[openstack.TypeImage+"#"+other.ID] != openstack.RestoreError {
		t.Errorf("unusable image: restored into %s (the earlier %s); status %v", id, other.ID, h.status)
	}
	if _, err := images.Get(t.Context(), sc, other.ID).Extract(); !openstack.IsNotFound(err) {
		t.Errorf("the unusable image %s: %v, want it deleted", other.ID, err)
	}
}
