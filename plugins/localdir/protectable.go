package localdir

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// Protectables implements protection.ProtectableSource.
func (p *Plugin) Protectables() []protection.Protectable {
	return []protection.Protectable{protectable{p}}
}

// protectable lists the allowed roots and the directories below them, down
// to the instance depth.
type protectable struct{ p *Plugin }

func (pr protectable) Type() string { return ResourceType }

func (pr protectable) ParentTypes() []string { return nil }

// List returns the roots and their subdirectories down to the instance
// depth, sorted by path. Symlinks are not followed; a root that does not
// exist is left out; an unreadable directory is listed without its contents.
func (pr protectable) List(ctx context.Context, s protection.Scope) ([]model.Resource, error) {
	seen := map[string]bool{}
	var out []model.Resource
	for _, root := range pr.p.roots {
		fi, err := os.Lstat(root)
		if err != nil || !fi.IsDir() {
			continue
		}
		if err := pr.walk(ctx, root, 0, seen, &out); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b model.Resource) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (pr protectable) walk(ctx context.Context, dir string, level int, seen map[string]bool, out *[]model.Resource) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if seen[dir] { // roots inside other roots
		return nil
	}
	seen[dir] = true
	*out = append(*out, ResourceFor(dir))
	if level >= pr.p.depth {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, d := range entries {
		if d.IsDir() { // false for a symlink, even to a directory
			if err := pr.walk(ctx, filepath.Join(dir, d.Name()), level+1, seen, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// Show returns the directory with id among those List returns or, when the
// scope has a "path" parameter, the directory at that path (any depth below
// a root) if its id is id.
func (pr protectable) Show(ctx context.Context, s protection.Scope, id string) (model.Resource, error) {
	if path, _ := s.Parameters["path"].(string); path != "" {
		return pr.showPath(path, id)
	}
	all, err := pr.List(ctx, s)
	if err != nil {
		return model.Resource{}, err
	}
	for _, r := range all {
		if r.ID == id {
			return r, nil
		}
	}
	return model.Resource{}, fmt.Errorf("%w: no directory with id %s within %d levels below the allowed roots %v",
		protection.ErrNotFound, id, pr.p.depth, pr.p.roots)
}

func (pr protectable) showPath(path, id string) (model.Resource, error) {
	if filepath.IsAbs(path) {
		path = filepath.Clean(path)
	}
	real, err := pr.p.checkPath("directory", path)
	if err != nil {
		return model.Resource{}, fmt.Errorf("%w: %v", protection.ErrNotFound, err)
	}
	if got := IDFor(path); got != id {
		return model.Resource{}, fmt.Errorf("%w: directory %q has id %s, not %s", protection.ErrNotFound, path, got, id)
	}
	if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
		return model.Resource{}, fmt.Errorf("%w: no directory at %q", protection.ErrNotFound, path)
	}
	return ResourceFor(path), nil
}

// Dependents implements protection.Protectable: a directory depends on no
// other resource.
func (pr protectable) Dependents(ctx context.Context, s protection.Scope, parent model.Resource) ([]model.Resource, error) {
	return nil, nil
}
