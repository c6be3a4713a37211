package provider_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/bank/fsbank"
	"github.com/pouchdp/pouch/plugins/localdir"
	"github.com/pouchdp/pouch/plugins/noop"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/shared/provider"
)

// loader returns a Loader with the fs bank and the noop plugin whose banks
// live below a fresh temporary POUCH_DATA_DIR, which it also returns.
func loader(t *testing.T) (*provider.Loader, string) {
	t.Helper()
	data := t.TempDir()
	env := map[string]string{"POUCH_DATA_DIR": data}
	return &provider.Loader{
		Banks:   bank.Registry{"pouch-fs-bank-plugin": fsbank.FromConfig},
		Plugins: protection.Registry{"pouch-noop-protection-plugin": noop.New(nil)},
		Env: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
		Log: slog.New(slog.DiscardHandler),
	}, data
}

func file(name string) string { return filepath.Join("testdata", "files", name) }

// wantErrorAbout fails unless err is, or joins, a *conf.KeyError for path and
// key of the [provider] section, and its message contains every part.
func wantErrorAbout(t *testing.T, err error, path, key string, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one about %s key %q", path, key)
	}
	if !hasKeyError(err, path, "provider", key) {
		t.Errorf("error %q has no KeyError for %s [provider] %s", err, path, key)
	}
	for _, p := range append([]string{path, key}, parts...) {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

// hasKeyError looks through joined and wrapped errors for a KeyError.
func hasKeyError(err error, path, section, key string) bool {
	var ke *conf.KeyError
	if errors.As(err, &ke) && ke.Path == path && ke.Section == section && ke.Key == key {
		return true
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if hasKeyError(e, path, section, key) {
				return true
			}
		}
	}
	return false
}

func TestLoadFileGood(t *testing.T) {
	l, data := loader(t)
	p, err := l.LoadFile(file("good.conf"))
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if p == nil {
		t.Fatal("LoadFile returned no provider for an enabled one")
	}
	checks := []struct{ field, got, want string }{
		{"ID (normalised)", p.ID, "0ab1c2d3-0000-4000-8000-00000000000a"},
		{"Name", p.Name, "Test Noop Provider"},
		{"Description", p.Description, "Does nothing, for tests"},
		{"Source", p.Source, file("good.conf")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}

	want := slices.Sorted(slices.Values(noop.ResourceTypes))
	if got := p.ResourceTypes(); !reflect.DeepEqual(got, want) {
		t.Errorf("ResourceTypes() = %q, want %q", got, want)
	}
	for _, typ := range want {
		if _, ok := p.Plugin(typ); !ok {
			t.Errorf("Plugin(%q) not found", typ)
		}
	}
	if _, ok := p.Plugin("Pouch::Local::Directory"); ok {
		t.Errorf("Plugin found for a type no plugin of the provider handles")
	}

	schema := p.ExtendedInfoSchema()
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range schema {
			if !yield(k) {
				return
			}
		}
	})
	if wantKeys := []string{"options_schema", "restore_schema", "saved_info_schema"}; !reflect.DeepEqual(keys, wantKeys) {
		t.Fatalf("ExtendedInfoSchema keys = %q, want %q", keys, wantKeys)
	}
	for k, byType := range schema {
		if len(byType) != len(want) {
			t.Errorf("%s has %d types, want %d", k, len(byType), len(want))
		}
		for _, typ := range want {
			if s, ok := byType[typ].(map[string]any); !ok || s == nil || len(s) != 0 {
				t.Errorf("%s[%s] = %#v, want an empty (non-nil) object", k, typ, byType[typ])
			}
		}
	}

	// The bank is the fs bank below POUCH_DATA_DIR, and it works.
	if fi, err := os.Stat(filepath.Join(data, "bank", "karbor")); err != nil || !fi.IsDir() {
		t.Fatalf("bank container not created below POUCH_DATA_DIR: %v", err)
	}
	ctx := context.Background()
	if err := bank.PutBytes(ctx, p.Bank, "/probe", []byte("x")); err != nil {
		t.Fatalf("bank Put: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "bank", "karbor", "probe")); err != nil {
		t.Errorf("object not stored in the configured bank path: %v", err)
	}
}

func TestLoadFileKarborPrefix(t *testing.T) {
	l, _ := loader(t)
	p, err := l.LoadFile(file("prefixed.conf"))
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if p == nil || p.Bank == nil {
		t.Fatalf("LoadFile = %+v, want a provider with a bank", p)
	}
	if _, ok := p.Plugin("OS::Nova::Server"); !ok {
		t.Errorf("plugin named with the karbor.protections. prefix was not loaded")
	}
}

func TestLoadFileDisabled(t *testing.T) {
	for _, name := range []string{"enabled-missing.conf", "enabled-false.conf"} {
		t.Run(name, func(t *testing.T) {
			l, data := loader(t)
			p, err := l.LoadFile(file(name))
			if err != nil || p != nil {
				t.Fatalf("LoadFile = %+v, %v; want nil, nil", p, err)
			}
			if _, err := os.Stat(filepath.Join(data, "bank")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a disabled provider's bank was created (stat: %v)", err)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		file  string
		key   string
		parts []string
		is    error
	}{
		{"no-bank.conf", "bank", []string{"missing"}, conf.ErrMissing},
		{"unknown-bank.conf", "bank", []string{`unknown bank plugin "karbor-swift-bank-plugin"`}, nil},
		{"unknown-plugin.conf", "plugin", []string{`"karbor-volume-protection-plugin"`}, nil},
		{"no-plugin.conf", "plugin", []string{"at least one plugin"}, conf.ErrMissing},
		{"bad-id.conf", "id", []string{`not a UUID: "not-a-uuid"`}, nil},
		{"no-provider-section.conf", "name", []string{"no [provider] section"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			l, _ := loader(t)
			p, err := l.LoadFile(file(tt.file))
			if p != nil {
				t.Errorf("LoadFile returned a provider with its error: %+v", p)
			}
			wantErrorAbout(t, err, file(tt.file), tt.key, tt.parts...)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
		})
	}
}

func TestLoadFileBankError(t *testing.T) {
	// The bank's own error names its own section and key.
	l, _ := loader(t)
	path := file("bank-misconfigured.conf")
	_, err := l.LoadFile(path)
	if !hasKeyError(err, path, fsbank.Section, "file_system_bank_path") {
		t.Errorf("error %v does not name [%s] file_system_bank_path of %s", err, fsbank.Section, path)
	}
	if !errors.Is(err, conf.ErrMissing) {
		t.Errorf("error %v does not wrap conf.ErrMissing", err)
	}
}

func TestLoadFileReportsEveryProblem(t *testing.T) {
	l, _ := loader(t)
	path := file("many-problems.conf")
	_, err := l.LoadFile(path)
	for _, key := range []string{"name", "bank", "id", "plugin"} {
		if !hasKeyError(err, path, "provider", key) {
			t.Errorf("error %q does not report key %q", err, key)
		}
	}
}

func TestLoadFileEnabled(t *testing.T) {
	l, _ := loader(t)
	path := file("bad-enabled.conf")
	if _, err := l.LoadFile(path); !hasKeyError(err, path, "provider", "enabled") {
		t.Errorf("bad enabled: error %v does not name the key", err)
	}
	// Karbor skips a disabled provider before checking the rest of it.
	p, err := l.LoadFile(file("disabled-incomplete.conf"))
	if p != nil || err != nil {
		t.Errorf("disabled incomplete provider: %v, %v; want skipped", p, err)
	}
}

func TestLoadFileMissing(t *testing.T) {
	l, _ := loader(t)
	_, err := l.LoadFile(file("does-not-exist.conf"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestLoadDirDuplicateID(t *testing.T) {
	l, _ := loader(t)
	dir := filepath.Join("testdata", "dup")
	set, err := l.LoadDir(dir)
	if set != nil {
		t.Errorf("LoadDir returned providers with its error: %v", set.All())
	}
	first, second := filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf")
	wantErrorAbout(t, err, second, "id", first, "8a8a8a8a-8888-4888-8888-88888888888a")
	if hasKeyError(err, first, "provider", "id") {
		t.Errorf("error %q blames the first file, want the second", err)
	}
}

func TestLoadDirReportsEveryFile(t *testing.T) {
	l, _ := loader(t)
	dir := filepath.Join("testdata", "multi")
	set, err := l.LoadDir(dir)
	if set != nil {
		t.Errorf("LoadDir returned providers with its error: %v", set.All())
	}
	if err == nil {
		t.Fatal("LoadDir: no error")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T is not joined", err)
	}
	if n := len(joined.Unwrap()); n != 3 {
		t.Errorf("LoadDir joined %d errors, want 3: %v", n, err)
	}
	for _, c := range []struct{ file, key string }{
		{"2-no-bank.conf", "bank"},
		{"3-unknown-plugin.conf", "plugin"},
		{"5-bad-id.conf", "id"},
	} {
		if !hasKeyError(err, filepath.Join(dir, c.file), "provider", c.key) {
			t.Errorf("error %q does not report %s key %s", err, c.file, c.key)
		}
	}
	for _, fine := range []string{"1-good.conf", "4-disabled.conf", "README"} {
		if strings.Contains(err.Error(), fine) {
			t.Errorf("error %q mentions %s, which has no problem", err, fine)
		}
	}
}

func TestLoadDirEmptyAndMissing(t *testing.T) {
	l, _ := loader(t)
	set, err := l.LoadDir(t.TempDir())
	if err != nil {
		t.Fatalf("LoadDir of an empty directory: %v", err)
	}
	if n := len(set.All()); n != 0 {
		t.Errorf("empty directory gave %d providers", n)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := l.LoadDir(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadDir of a missing directory: error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestWriteDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc", "providers.d")
	wrote, err := provider.WriteDefaults(dir)
	if err != nil || !wrote {
		t.Fatalf("WriteDefaults(new dir) = %v, %v; want true, nil", wrote, err)
	}
	shipped, err := filepath.Glob(filepath.Join("defaults", "*.conf"))
	if err != nil || len(shipped) == 0 {
		t.Fatalf("no shipped defaults found: %v", err)
	}
	written, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != len(shipped) {
		t.Errorf("wrote %d files, want %d", len(written), len(shipped))
	}
	for _, src := range shipped {
		want, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.Base(src)))
		if err != nil {
			t.Errorf("shipped %s not written: %v", src, err)
			continue
		}
		if string(got) != string(want) {
			t.Errorf("%s written with different content", filepath.Base(src))
		}
	}
}

func TestWriteDefaultsLeavesExistingDirAlone(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "mine.conf")
	if err := os.WriteFile(mine, []byte("[provider]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrote, err := provider.WriteDefaults(dir)
	if err != nil || wrote {
		t.Fatalf("WriteDefaults(existing dir) = %v, %v; want false, nil", wrote, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "mine.conf" {
		t.Errorf("existing directory changed: %v", entries)
	}

	empty := t.TempDir()
	if wrote, err := provider.WriteDefaults(empty); err != nil || wrote {
		t.Errorf("WriteDefaults(existing empty dir) = %v, %v; want false, nil", wrote, err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("existing empty directory got files: %v", entries)
	}
}

func TestShippedDefaultsLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "providers.d")
	if _, err := provider.WriteDefaults(dir); err != nil {
		t.Fatal(err)
	}
	data, roots := t.TempDir(), t.TempDir()
	env := map[string]string{"POUCH_DATA_DIR": data, "POUCH_ALLOWED_ROOTS": roots}
	l := &provider.Loader{
		Banks: bank.Registry{"pouch-fs-bank-plugin": fsbank.FromConfig, "karbor-fs-bank-plugin": fsbank.FromConfig},
		Plugins: protection.Registry{
			"pouch-noop-protection-plugin":  noop.New(nil),
			"karbor-noop-protection-plugin": noop.New(nil),
			"pouch-local-directory-plugin":  localdir.New,
		},
		Env: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
		Log: slog.New(slog.DiscardHandler),
	}
	set, err := l.LoadDir(dir)
	if err != nil {
		t.Fatalf("LoadDir(shipped defaults): %v", err)
	}
	type summary struct {
		ID, Name string
		Types    []string
	}
	var got []summary
	for _, p := range set.All() {
		got = append(got, summary{p.ID, p.Name, p.ResourceTypes()})
	}
	want := []summary{
		{"3d7e9a3c-5f0b-4c55-9b0e-6b1f3c1d2a10", "Local Directory Provider", []string{localdir.ResourceType}},
		{"b766f37c-d011-4026-8228-28730d734a3f", "No-Op Provider", slices.Sorted(slices.Values(noop.ResourceTypes))},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("shipped providers:\n got  %+v\n want %+v", got, want)
	}
	for _, s := range want {
		p, err := set.Get(s.ID)
		if err != nil || p.ID != s.ID {
			t.Errorf("Get(%s) = %v, %v", s.ID, p, err)
		}
	}
	if _, err := set.Get("00000000-0000-0000-0000-000000000000"); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Get(unknown) error = %v, want ErrNotFound", err)
	}
	if fi, err := os.Stat(filepath.Join(data, "bank", "karbor")); err != nil || !fi.IsDir() {
		t.Errorf("shipped bank not created below POUCH_DATA_DIR: %v", err)
	}
}
