package localdir

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

func TestProtectable(t *testing.T) {
	base, _ := filepath.EvalSymlinks(t.TempDir())
	r1, r2 := filepath.Join(base, "r1"), filepath.Join(base, "r2")
	for _, d := range []string{"r1/a/b/c", "r1/z", "r1/.hidden", "r2", "elsewhere/x"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(r1, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "elsewhere"), filepath.Join(r1, "link")); err != nil {
		t.Fatal(err)
	}
	p, err := NewPlugin(Options{AllowedRoots: []string{r2, r1, filepath.Join(base, "missing")}, InstanceDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	ps := p.Protectables()
	if len(ps) != 1 {
		t.Fatalf("%d protectables", len(ps))
	}
	pr := ps[0]
	if pr.Type() != ResourceType || len(pr.ParentTypes()) != 0 {
		t.Errorf("type %q, parents %v", pr.Type(), pr.ParentTypes())
	}

	ctx := context.Background()
	list, err := pr.List(ctx, protection.Scope{ProjectID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range list {
		names = append(names, r.Name)
	}
	want := []string{r1, r1 + "/.hidden", r1 + "/a", r1 + "/a/b", r1 + "/z", r2}
	if !slices.Equal(names, want) {
		t.Errorf("List names\n got  %v\n want %v", names, want)
	}
	again, _ := pr.List(ctx, protection.Scope{})
	if !slices.EqualFunc(list, again, func(a, b model.Resource) bool { return a.Key() == b.Key() }) {
		t.Errorf("ids not stable across calls")
	}
	for _, r := range list {
		if r.Type != ResourceType || r.ID != IDFor(r.Name) {
			t.Errorf("resource %+v", r)
		}
		if url.PathEscape(r.ID) != r.ID || url.QueryEscape(r.ID) != r.ID {
			t.Errorf("id %q is not URL-safe", r.ID)
		}
		if u, err := uuid.Parse(r.ID); err != nil || u.Version() != 5 {
			t.Errorf("id %q is not a name-based UUID", r.ID)
		}
		if err := p.Validate(ctx, r); err != nil {
			t.Errorf("listed resource does not validate: %v", err)
		}
	}

	deep := ResourceFor(r1 + "/a/b/c")
	tests := []struct {
		name   string
		id     string
		params map[string]any
		want   string // name found; "" for ErrNotFound
	}{
		{"by id", IDFor(r1 + "/a/b"), nil, r1 + "/a/b"},
		{"root by id", IDFor(r2), nil, r2},
		{"unknown id", "00000000-0000-0000-0000-000000000000", nil, ""},
		{"too deep without path", deep.ID, nil, ""},
		{"symlinked dir is not listed", IDFor(r1 + "/link"), nil, ""},
		{"too deep with path", deep.ID, map[string]any{"path": deep.Name}, deep.Name},
		{"path with trailing slash", deep.ID, map[string]any{"path": deep.Name + "/"}, deep.Name},
		{"path with another id", IDFor(r2), map[string]any{"path": deep.Name}, ""},
		{"path outside", IDFor(base + "/elsewhere/x"), map[string]any{"path": base + "/elsewhere/x"}, ""},
		{"path through escaping symlink", IDFor(r1 + "/link/x"), map[string]any{"path": r1 + "/link/x"}, ""},
		{"path not a directory", IDFor(r1 + "/file"), map[string]any{"path": r1 + "/file"}, ""},
		{"path missing", IDFor(r1 + "/nope"), map[string]any{"path": r1 + "/nope"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := pr.Show(ctx, protection.Scope{Parameters: tt.params}, tt.id)
			if tt.want == "" {
				if !errors.Is(err, protection.ErrNotFound) {
					t.Errorf("got %+v, %v; want ErrNotFound", r, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != tt.want || r.ID != tt.id {
				t.Errorf("got %+v, want %s", r, tt.want)
			}
		})
	}

	if deps, err := pr.Dependents(ctx, protection.Scope{}, list[0]); err != nil || len(deps) != 0 {
		t.Errorf("dependents %v, %v", deps, err)
	}
}

func TestIDs(t *testing.T) {
	if IDFor("/srv/a") != IDFor("/srv/a") || IDFor("/srv/a") == IDFor("/srv/b") {
		t.Error("ids not stable or not distinct")
	}
	if r := ResourceFor("/srv/a/"); r.Name != "/srv/a" || r.ID != IDFor("/srv/a") {
		t.Errorf("ResourceFor does not clean: %+v", r)
	}
}
