package image

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/protection"
)

func load(t *testing.T, section string) *conf.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.conf")
	text := "[openstack_client]\nauth_url = http://127.0.0.1:5000/v3\n\n[image_backup_plugin]\n" + section
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := conf.LoadWithEnv(path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name, section string
		badKey        string // "" : New succeeds
		size          int64
		uploads       int
		snapshot      bool
	}{
		{name: "defaults", size: DefaultObjectSize, uploads: DefaultUploads, snapshot: true},
		{name: "all set", section: "backup_image_object_size = 1048576\nupload_concurrency = 2\nenable_server_snapshot = False\n",
			size: 1 << 20, uploads: 2},
		{name: "64 KiB", section: "backup_image_object_size = 65536\n", size: 65536, uploads: DefaultUploads, snapshot: true},
		{name: "size not a multiple of 64 KiB", section: "backup_image_object_size = 100000\n", badKey: "backup_image_object_size"},
		{name: "size zero", section: "backup_image_object_size = 0\n", badKey: "backup_image_object_size"},
		{name: "size negative", section: "backup_image_object_size = -65536\n", badKey: "backup_image_object_size"},
		{name: "size too large", section: "backup_image_object_size = 2147483648\n", badKey: "backup_image_object_size"},
		{name: "size not a number", section: "backup_image_object_size = 64M\n", badKey: "backup_image_object_size"},
		{name: "no uploads", section: "upload_concurrency = 0\n", badKey: "upload_concurrency"},
		{name: "too many uploads", section: "upload_concurrency = 65\n", badKey: "upload_concurrency"},
		{name: "snapshot not a boolean", section: "enable_server_snapshot = maybe\n", badKey: "enable_server_snapshot"},
		{name: "poll interval", section: "poll_interval = soon\n", badKey: "poll_interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl, err := New(load(t, tc.section))
			if tc.badKey != "" {
				var ke *conf.KeyError
				if !errors.As(err, &ke) || ke.Key != tc.badKey || ke.Section != Section {
					t.Fatalf("New: %v, want an error about [%s] %s", err, Section, tc.badKey)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			p := pl.(*Plugin)
			if p.objectSize != tc.size || p.uploads != tc.uploads || p.serverSnapshot != tc.snapshot {
				t.Errorf("size %d uploads %d snapshot %v, want %d %d %v", p.objectSize, p.uploads, p.serverSnapshot,
					tc.size, tc.uploads, tc.snapshot)
			}
		})
	}
}

// TestSums: both sums, written in small and large pieces, are Glance's;
// a mismatch of either is ErrCorrupt.
func TestSums(t *testing.T) {
	data := bytes.Repeat([]byte("pouch image data "), 300_000) // 5.1 MB
	m := md5.Sum(data)
	h := sha512.Sum512(data)
	im := &ImageMetadata{Checksum: hex.EncodeToString(m[:]), OSHashAlgo: "sha512", OSHashValue: hex.EncodeToString(h[:])}
	for _, piece := range []int{1000, 3 << 20} {
		s := newSums("sha512")
		for rest := data; len(rest) > 0; {
			n := min(piece, len(rest))
			s.Write(rest[:n])
			rest = rest[n:]
		}
		if err := s.check("data", im); err != nil {
			t.Errorf("pieces of %d: %v", piece, err)
		}
	}
	for _, bad := range []ImageMetadata{
		{Checksum: strings.Repeat("0", 32), OSHashAlgo: im.OSHashAlgo, OSHashValue: im.OSHashValue},
		{Checksum: im.Checksum, OSHashAlgo: im.OSHashAlgo, OSHashValue: strings.Repeat("0", 128)},
	} {
		s := newSums("sha512")
		s.Write(data)
		if err := s.check("data", &bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%+v: %v, want ErrCorrupt", bad, err)
		}
	}
	s := newSums("blake3") // unknown: only the MD5 is checked
	s.Write(data)
	if err := s.check("data", &ImageMetadata{Checksum: im.Checksum, OSHashAlgo: "blake3", OSHashValue: "x"}); err != nil {
		t.Errorf("unknown algorithm: %v", err)
	}
}

// TestDescribe keeps the user's string properties, not Glance's own.
func TestDescribe(t *testing.T) {
	im := &images.Image{Name: "n", DiskFormat: "qcow2", ContainerFormat: "bare", Checksum: "c", SizeBytes: 5,
		Visibility: images.ImageVisibilityShared, Tags: []string{"a"}, MinDiskGigabytes: 1, MinRAMMegabytes: 64,
		Properties: map[string]any{
			"os_hash_algo": "sha512", "os_hash_value": "v", "os_distro": "debian", "image_type": "snapshot",
			"locations": []any{}, "stores": "file", "os_glance_importing_to_stores": "", "direct_url": "file:///x",
		}}
	md := describe(im)
	want := map[string]string{"os_distro": "debian", "image_type": "snapshot"}
	if len(md.Properties) != len(want) || md.Properties["os_distro"] != "debian" || md.Properties["image_type"] != "snapshot" {
		t.Errorf("properties %v, want %v", md.Properties, want)
	}
	if md.OSHashAlgo != "sha512" || md.OSHashValue != "v" || md.Size != 5 || md.MinRAM != 64 || md.Visibility != "shared" {
		t.Errorf("metadata %+v", md)
	}
}

// TestStall: the transfer context lives while bytes move and ends, as a
// transient errStalled, once they stop for the whole timeout.
func TestStall(t *testing.T) {
	ctx, touch, stop := stall(context.Background(), time.Second)
	defer stop()
	for range 10 {
		time.Sleep(100 * time.Millisecond)
		touch()
	}
	if err := context.Cause(ctx); err != nil {
		t.Fatalf("cancelled while bytes moved: %v", err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("not cancelled after a stall")
	}
	if err := context.Cause(ctx); !errors.Is(err, errStalled) || !protection.IsTransient(err) {
		t.Errorf("cause %v, want a transient errStalled", err)
	}
}
