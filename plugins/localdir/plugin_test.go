package localdir

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

func writeConf(t *testing.T, body string) *conf.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "provider.conf")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := conf.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestNewFromConfig(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		body    string
		wantKey string // key the error must name; "" for success
		missing bool   // error wraps conf.ErrMissing
	}{
		{"no section", "[other]\nx = 1\n", "allowed_roots", true},
		{"empty roots", "[local_directory_plugin]\nallowed_roots =\n", "allowed_roots", true},
		{"relative root", "[local_directory_plugin]\nallowed_roots = data\n", "allowed_roots", false},
		{"one relative among many", "[local_directory_plugin]\nallowed_roots = /srv, data\n", "allowed_roots", false},
		{"root is a file", "[local_directory_plugin]\nallowed_roots = " + dir + "/file\n", "allowed_roots", false},
		{"chunk_size not a number", "[local_directory_plugin]\nallowed_roots = /srv\nchunk_size = big\n", "chunk_size", false},
		{"chunk_size zero", "[local_directory_plugin]\nallowed_roots = /srv\nchunk_size = 0\n", "chunk_size", false},
		{"chunk_size negative", "[local_directory_plugin]\nallowed_roots = /srv\nchunk_size = -5\n", "chunk_size", false},
		{"chunk_size too big", "[local_directory_plugin]\nallowed_roots = /srv\nchunk_size = 268435457\n", "chunk_size", false},
		{"instance_depth negative", "[local_directory_plugin]\nallowed_roots = /srv\ninstance_depth = -1\n", "instance_depth", false},
		{"instance_depth not a number", "[local_directory_plugin]\nallowed_roots = /srv\ninstance_depth = deep\n", "instance_depth", false},
		{"max chunk_size", "[local_directory_plugin]\nallowed_roots = /srv\nchunk_size = 268435456\n", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeConf(t, tt.body)
			_, err := New(cfg)
			if tt.wantKey == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			var ke *conf.KeyError
			if !errors.As(err, &ke) || ke.Key != tt.wantKey || ke.Section != Section || !strings.Contains(err.Error(), cfg.Path()) {
				t.Errorf("error %q does not name %s [%s] %s", err, cfg.Path(), Section, tt.wantKey)
			}
			if errors.Is(err, conf.ErrMissing) != tt.missing {
				t.Errorf("errors.Is(err, conf.ErrMissing) = %v, want %v", !tt.missing, tt.missing)
			}
		})
	}

	t.Run("valid", func(t *testing.T) {
		cfg := writeConf(t, "[local_directory_plugin]\n"+
			"allowed_roots = /srv/a/, /srv//b\n"+
			"allowed_roots = "+dir+"/link\n"+
			"chunk_size = 1048576\n")
		pl, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		p := pl.(*Plugin)
		if want := []string{"/srv/a", "/srv/b", real}; !slices.Equal(p.Roots(), want) {
			t.Errorf("roots %v, want %v", p.Roots(), want)
		}
		if p.chunkSize != 1<<20 || p.depth != DefaultInstanceDepth {
			t.Errorf("chunk size %d, depth %d", p.chunkSize, p.depth)
		}
		if _, ok := pl.(protection.Validator); !ok {
			t.Error("not a Validator")
		}
		if _, ok := pl.(protection.ProtectableSource); !ok {
			t.Error("not a ProtectableSource")
		}
	})

	t.Run("defaults", func(t *testing.T) {
		pl, err := New(writeConf(t, "[local_directory_plugin]\nallowed_roots = /srv\n"))
		if err != nil {
			t.Fatal(err)
		}
		if p := pl.(*Plugin); p.chunkSize != DefaultChunkSize || p.depth != 2 {
			t.Errorf("chunk size %d, depth %d", p.chunkSize, p.depth)
		}
	})
}

func TestNewPluginOptions(t *testing.T) {
	for _, opts := range []Options{
		{},
		{AllowedRoots: []string{"relative"}},
		{AllowedRoots: []string{"/srv"}, ChunkSize: -1},
		{AllowedRoots: []string{"/srv"}, ChunkSize: MaxChunkSize + 1},
		{AllowedRoots: []string{"/srv"}, InstanceDepth: -1},
	} {
		if _, err := NewPlugin(opts); err == nil {
			t.Errorf("NewPlugin(%+v) accepted", opts)
		}
	}
}

func TestValidateRefuses(t *testing.T) {
	e := newEnv(t, testChunk)
	outside, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(e.root, "data")
	if err := os.MkdirAll(filepath.Join(inside, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(e.root, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(e.root, "data"), filepath.Join(e.root, "alias")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent-pouch-target", filepath.Join(e.root, "dangling")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		r    model.Resource
		want string // in the error; "" for valid
	}{
		{"inside", ResourceFor(inside), ""},
		{"the root itself", ResourceFor(e.root), ""},
		{"not created yet", ResourceFor(filepath.Join(inside, "later", "on")), ""},
		{"through a symlink staying inside", ResourceFor(filepath.Join(e.root, "alias", "sub")), ""},
		{"outside", ResourceFor("/etc"), `directory "/etc" is outside the allowed roots [` + e.root + `]`},
		{"dot-dot out", model.Resource{Type: ResourceType, ID: IDFor(e.root + "/../x"), Name: e.root + "/../x"}, "not a clean path"},
		{"relative", model.Resource{Type: ResourceType, ID: IDFor("data"), Name: "data"}, "not an absolute path"},
		{"id of another path", model.Resource{Type: ResourceType, ID: IDFor(e.root), Name: inside}, "does not match"},
		{"made-up id", model.Resource{Type: ResourceType, ID: "1", Name: inside}, "does not match"},
		{"wrong type", model.Resource{Type: "OS::Nova::Server", ID: IDFor(inside), Name: inside}, "not Pouch::Local::Directory"},
		{"symlink escaping the root", ResourceFor(filepath.Join(e.root, "escape")), "resolves to"},
		{"below a symlink escaping the root", ResourceFor(filepath.Join(e.root, "escape", "x", "y")), "outside the allowed roots"},
		{"below a dangling symlink", ResourceFor(filepath.Join(e.root, "dangling", "x")), "cannot resolve"},
		{"root prefix is not a parent", ResourceFor(e.root + "-sibling"), "outside the allowed roots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.p.Validate(context.Background(), tt.r)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			t.Log(err)
			if !errors.Is(err, protection.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q: want ErrInvalid and %q", err, tt.want)
			}
			// Every hook refuses it too, and nothing reaches the bank.
			for _, op := range []model.OperationType{model.OpProtect, model.OpRestore, model.OpVerify} {
				if _, err := e.run(op, tt.r, nil); err == nil {
					t.Errorf("%s accepted", op)
				}
			}
			if tt.r.Type == ResourceType && len(e.keys(tt.r)) != 0 {
				t.Errorf("objects written for a refused resource")
			}
		})
	}
}

func TestRestoreTargetRefused(t *testing.T) {
	e := newEnv(t, testChunk)
	src := filepath.Join(e.root, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	outside, _ := filepath.EvalSymlinks(t.TempDir())
	if err := os.Symlink(outside, filepath.Join(e.root, "escape")); err != nil {
		t.Fatal(err)
	}
	r := ResourceFor(src)
	e.mustRun(model.OpProtect, r, nil)

	tests := []struct {
		name   string
		params map[string]any
		target string
		want   string
	}{
		{"restore_path outside", map[string]any{"restore_path": outside}, "", `restore_path "` + outside + `" is outside the allowed roots`},
		{"restore_path relative", map[string]any{"restore_path": "here"}, "", "not an absolute path"},
		{"restore_path through escaping symlink", map[string]any{"restore_path": filepath.Join(e.root, "escape", "x")}, "", "resolves to"},
		{"restore_path dot-dot", map[string]any{"restore_path": e.root + "/../x"}, "", "outside the allowed roots"},
		{"restore target outside", nil, outside, `restore target "` + outside + `" is outside`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := e.hookContext(model.OpRestore, r, tt.params)
			hc.RestoreTarget = tt.target
			err := e.runHooks(hc)
			if err == nil {
				t.Fatal("accepted")
			}
			t.Log(err)
			if !errors.Is(err, protection.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q: want ErrInvalid and %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("something was written outside the roots")
			}
		})
	}

	// A restore target that is not a path (an OpenStack URL) is ignored.
	hc := e.hookContext(model.OpRestore, r, nil)
	hc.RestoreTarget = "http://keystone:5000/v3"
	if err := e.runHooks(hc); err != nil {
		t.Fatal(err)
	}
}

func TestSymlinkedRoot(t *testing.T) {
	base, _ := filepath.EvalSymlinks(t.TempDir())
	real := filepath.Join(base, "real")
	if err := os.MkdirAll(filepath.Join(real, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	p, err := NewPlugin(Options{AllowedRoots: []string{link}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Roots(), []string{real}) {
		t.Errorf("roots %v, want %v", p.Roots(), []string{real})
	}
	for _, path := range []string{filepath.Join(real, "d"), filepath.Join(link, "d")} {
		if err := p.Validate(context.Background(), ResourceFor(path)); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	if err := p.Validate(context.Background(), ResourceFor(base)); err == nil {
		t.Errorf("parent of the root accepted")
	}
}

func TestOperationSupport(t *testing.T) {
	e := newEnv(t, testChunk)
	r := ResourceFor(e.root)
	for _, op := range []model.OperationType{model.OpProtect, model.OpRestore, model.OpDelete, model.OpVerify, model.OpCopy} {
		o, err := e.p.Operation(op, r)
		if err != nil {
			t.Errorf("%s: %v", op, err)
		}
		for _, h := range protection.Hooks {
			if o.Func(h) == nil {
				t.Errorf("%s has no %s hook", op, h)
			}
		}
	}
	if _, err := e.p.Operation("transmogrify", r); !errors.Is(err, protection.ErrUnsupported) {
		t.Errorf("unknown operation: %v, want ErrUnsupported", err)
	}
	if _, err := e.p.Operation(model.OpProtect, model.Resource{Type: "OS::Nova::Server", ID: "x"}); !errors.Is(err, protection.ErrInvalid) {
		t.Errorf("other type: %v, want ErrInvalid", err)
	}
	if got := e.p.ResourceTypes(); !slices.Equal(got, []string{ResourceType}) {
		t.Errorf("resource types %v", got)
	}
}

func TestSchemas(t *testing.T) {
	e := newEnv(t, testChunk)
	s := e.p.Schemas(ResourceType)
	prop := func(schema map[string]any, name string) map[string]any {
		props, _ := schema["properties"].(map[string]any)
		p, _ := props[name].(map[string]any)
		return p
	}
	if p := prop(s.Options, "exclude"); p["type"] != "string" { // Karbor parameters are scalars
		t.Errorf("options exclude: %v", p)
	}
	if p := prop(s.Restore, "restore_path"); p["type"] != "string" {
		t.Errorf("restore restore_path: %v", p)
	}
	for _, name := range []string{"files", "bytes", "chunks"} {
		if p := prop(s.SavedInfo, name); p["type"] != "integer" {
			t.Errorf("saved info %s: %v", name, p)
		}
	}
	for _, m := range []map[string]any{s.Options, s.Restore, s.SavedInfo} {
		if _, err := json.Marshal(m); err != nil {
			t.Error(err)
		}
	}
	if other := e.p.Schemas("OS::Nova::Server"); other.Options != nil {
		t.Errorf("schemas for another type: %v", other)
	}
}
