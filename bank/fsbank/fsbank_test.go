package fsbank

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/bank/banktest"
	"github.com/pouchdp/pouch/shared/conf"
)

func newBank(t *testing.T) *Bank {
	t.Helper()
	b, err := New(t.TempDir(), "karbor")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConformance(t *testing.T) {
	banktest.Run(t, func(t *testing.T) bank.Bank { return newBank(t) })
}

// walk returns every path under root, relative to it, with "/" appended to
// directories.
func walk(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNoTempFilesLeft(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	b, err := New(dir, "karbor")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"/a", "/b/c", "/b/d/e", "/b/c", "/a"} {
		if err := bank.PutBytes(ctx, b, k, []byte("value of "+k)); err != nil {
			t.Fatal(err)
		}
	}
	// Failed puts clean up too.
	if err := b.Put(ctx, "/b/failed", iotestErrReader{}); err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Put(cancelled, "/cancelled/x", strings.NewReader("x")); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if err := b.AcquireLease(ctx, "owner", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := b.RenewLease(ctx, "owner", time.Minute); err != nil {
		t.Fatal(err)
	}

	got := walk(t, dir)
	// leases/~lock is the lease lock, there by design.
	want := []string{"karbor/", "karbor/a", "karbor/b/", "karbor/b/c", "karbor/b/d/", "karbor/b/d/e", "leases/", "leases/owner", "leases/~lock"}
	if !slices.Equal(got, want) {
		t.Errorf("bank directory holds %q, want %q", got, want)
	}

	// Deleting every object leaves no empty directories behind.
	if err := bank.DeletePrefix(ctx, b, "/"); err != nil {
		t.Fatal(err)
	}
	if err := b.ReleaseLease(ctx, "owner"); err != nil {
		t.Fatal(err)
	}
	if got, want := walk(t, dir), []string{"karbor/", "leases/", "leases/~lock"}; !slices.Equal(got, want) {
		t.Errorf("after deleting everything the bank directory holds %q, want %q", got, want)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("read failed") }

// A crash between writing the temporary file and renaming it leaves the
// temporary file behind; it must never be taken for an object or a lease.
func TestStrayTempFilesIgnored(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	b, err := New(dir, "karbor")
	if err != nil {
		t.Fatal(err)
	}
	if err := bank.PutBytes(ctx, b, "/a/b", []byte("old")); err != nil {
		t.Fatal(err)
	}
	strays := []string{
		"karbor/a/b" + tmpMark + "123456",  // an interrupted overwrite of /a/b
		"karbor/a/c" + tmpMark + "987654",  // an interrupted first write of /a/c
		"karbor/q/r" + tmpMark + "1",       // alone in its directory
		"karbor/top" + tmpMark + "42",      // at the top
		"leases/owner" + tmpMark + "77777", // an interrupted lease write
	}
	for _, s := range strays {
		p := filepath.Join(dir, filepath.FromSlash(s))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		data := `{"owner":"owner","expires_at":"2999-01-01T00:00:00Z"}`
		if err := os.WriteFile(p, []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
	}

	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"/a/b"}},
		{"/a", []string{"/a/b"}},
		{"/a/", []string{"/a/b"}},
		{"/a/b", []string{"/a/b"}},
		{"/a/c", nil},
		{"/q/", nil},
		{"/top", nil},
	} {
		keys, err := b.List(ctx, bank.ListOptions{Prefix: c.prefix})
		if err != nil {
			t.Fatalf("List(%q): %v", c.prefix, err)
		}
		if !slices.Equal(keys, c.want) {
			t.Errorf("List(%q) = %q, want %q", c.prefix, keys, c.want)
		}
	}
	if data, err := bank.GetBytes(ctx, b, "/a/b"); err != nil || string(data) != "old" {
		t.Errorf("Get(/a/b) = %q, %v; want the old object", data, err)
	}
	for _, k := range []string{"/a/c", "/q/r", "/top"} {
		if _, err := b.Get(ctx, k); !errors.Is(err, bank.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", k, err)
		}
	}
	if ok, err := b.LeaseValid(ctx, "owner"); err != nil || ok {
		t.Errorf("LeaseValid(owner) = %v, %v; want false", ok, err)
	}
	// The bank keeps working around the strays.
	if err := bank.PutBytes(ctx, b, "/a/c", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "/a/b"); err != nil {
		t.Fatal(err)
	}
	keys, err := b.List(ctx, bank.ListOptions{})
	if err != nil || !slices.Equal(keys, []string{"/a/c"}) {
		t.Errorf("List = %q, %v; want [/a/c]", keys, err)
	}
	if err := b.AcquireLease(ctx, "owner", time.Minute); err != nil {
		t.Errorf("AcquireLease(owner): %v", err)
	}
}

// The directory layout cannot hold an object and a key below it at once
// ("/a" and "/a/b"). Such a Put fails cleanly and harms neither object.
func TestObjectDirectoryConflict(t *testing.T) {
	ctx := t.Context()
	b := newBank(t)
	if err := bank.PutBytes(ctx, b, "/a", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := bank.PutBytes(ctx, b, "/d/e", []byte("e")); err != nil {
		t.Fatal(err)
	}
	if err := bank.PutBytes(ctx, b, "/a/b", []byte("b")); err == nil {
		t.Error("Put(/a/b) below object /a succeeded")
	}
	if err := bank.PutBytes(ctx, b, "/d", []byte("d")); err == nil {
		t.Error("Put(/d) above object /d/e succeeded")
	}
	for k, want := range map[string]string{"/a": "a", "/d/e": "e"} {
		if data, err := bank.GetBytes(ctx, b, k); err != nil || string(data) != want {
			t.Errorf("Get(%s) = %q, %v; want %q", k, data, err, want)
		}
	}
	keys, err := b.List(ctx, bank.ListOptions{})
	if err != nil || !slices.Equal(keys, []string{"/a", "/d/e"}) {
		t.Errorf("List = %q, %v; want [/a /d/e]", keys, err)
	}
}

func writeConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "provider.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromConfigErrors(t *testing.T) {
	cases := []struct {
		name, text, key string
	}{
		{"no section", "[provider]\nname = fs\n", "file_system_bank_path"},
		{"no key", "[file_system_bank_plugin]\nbank_object_container = karbor\n", "file_system_bank_path"},
		{"empty key", "[file_system_bank_plugin]\nfile_system_bank_path =\n", "file_system_bank_path"},
		{"bad container", "[file_system_bank_plugin]\nfile_system_bank_path = " + t.TempDir() + "\nbank_object_container = a/b\n", "file_system_bank_path"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeConf(t, c.text)
			cfg, err := conf.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			b, err := FromConfig(cfg)
			if err == nil {
				t.Fatalf("FromConfig succeeded with bank %v", b)
			}
			var ke *conf.KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("FromConfig error %v (%T) is not a *conf.KeyError", err, err)
			}
			if ke.Path != path || ke.Section != Section || ke.Key != c.key {
				t.Errorf("KeyError names %s [%s] %s, want %s [%s] %s", ke.Path, ke.Section, ke.Key, path, Section, c.key)
			}
			for _, s := range []string{path, Section, c.key} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestFromConfig(t *testing.T) {
	ctx := t.Context()
	for _, c := range []struct {
		name, extra, container string
	}{
		{"default container", "", "karbor"},
		{"own container", "bank_object_container = other\n", "other"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "bank")
			cfg, err := conf.Load(writeConf(t, "[file_system_bank_plugin]\nfile_system_bank_path = "+dir+"\n"+c.extra))
			if err != nil {
				t.Fatal(err)
			}
			b, err := FromConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := bank.PutBytes(ctx, b, "/k", []byte("v")); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, c.container, "k"))
			if err != nil || string(data) != "v" {
				t.Errorf("object file = %q, %v; want %q", data, err, "v")
			}
		})
	}
}
