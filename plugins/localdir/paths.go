package localdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// IDNamespace is the namespace of the name-based UUIDs that identify
// directories: id = uuid.NewSHA1(IDNamespace, []byte(absolute clean path)).
const IDNamespace = "9198d4a1-bfbd-4c52-82ad-d4a8a02d70e1"

// IDFor is the resource id of the directory at path (absolute and clean).
func IDFor(path string) string {
	return uuid.NewSHA1(uuid.MustParse(IDNamespace), []byte(path)).String()
}

// ResourceFor is the resource of the directory at path, cleaned. It does not
// check the path; Validate does.
func ResourceFor(path string) model.Resource {
	p := filepath.Clean(path)
	return model.Resource{Type: ResourceType, ID: IDFor(p), Name: p}
}

// cleanRoot checks and normalises one allowed root: absolute, cleaned, and
// with symlinks resolved when it exists.
func cleanRoot(root string) (string, error) {
	if !filepath.IsAbs(root) {
		return "", fmt.Errorf("allowed root %q is not an absolute path", root)
	}
	root = filepath.Clean(root)
	if _, err := os.Lstat(root); errors.Is(err, fs.ErrNotExist) {
		return root, nil
	}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("allowed root %q: %w", root, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("allowed root %q: %w", root, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("allowed root %q is not a directory", root)
	}
	return real, nil
}

// resolve returns the absolute clean path p with the symlinks of its existing
// leading components resolved; the components that do not exist yet are
// appended as they are.
func resolve(p string) (string, error) {
	rest := ""
	for q := p; ; {
		_, err := os.Lstat(q)
		if err == nil {
			real, err := filepath.EvalSymlinks(q)
			if err != nil {
				return "", err
			}
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(q)
		if parent == q {
			return p, nil
		}
		rest = filepath.Join(filepath.Base(q), rest)
		q = parent
	}
}

// within reports whether the resolved path p is one of the roots or below one.
func (p *Plugin) within(path string) bool {
	for _, root := range p.roots {
		rel, err := filepath.Rel(root, path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// checkPath checks that path (what a user wrote) is an absolute clean path
// inside an allowed root once symlinks are resolved, and returns the resolved
// path. what names the path in errors ("directory", "restore path"). Errors
// wrap protection.ErrInvalid.
func (p *Plugin) checkPath(what, path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", invalidf("%s %q is not an absolute path", what, path)
	}
	if c := filepath.Clean(path); c != path {
		return "", invalidf("%s %q is not a clean path (write %q)", what, path, c)
	}
	real, err := resolve(path)
	if err != nil {
		return "", invalidf("%s %q: cannot resolve its symlinks: %v", what, path, err)
	}
	if !p.within(real) {
		if real != path {
			return "", invalidf("%s %q resolves to %q, which is outside the allowed roots %v",
				what, path, real, p.roots)
		}
		return "", invalidf("%s %q is outside the allowed roots %v", what, path, p.roots)
	}
	return real, nil
}

// invalidError is a refusal shown to the user as it is; it wraps
// protection.ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return protection.ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{fmt.Sprintf(format, args...)}
}

// checkIdentity checks r's type and that its id is the one of its name.
func checkIdentity(r model.Resource) error {
	if r.Type != ResourceType {
		return invalidf("resource %s is of type %q, not %s", r.ID, r.Type, ResourceType)
	}
	if !filepath.IsAbs(r.Name) || filepath.Clean(r.Name) != r.Name {
		return invalidf("directory %q is not an absolute clean path", r.Name)
	}
	if want := IDFor(r.Name); r.ID != want {
		return invalidf("resource id %q does not match directory %q (its id is %q)", r.ID, r.Name, want)
	}
	return nil
}

// check validates r fully and returns its directory with symlinks resolved.
func (p *Plugin) check(r model.Resource) (string, error) {
	if r.Type != ResourceType {
		return "", invalidf("resource %s is of type %q, not %s", r.ID, r.Type, ResourceType)
	}
	dir, err := p.checkPath("directory", r.Name)
	if err != nil {
		return "", err
	}
	if err := checkIdentity(r); err != nil {
		return "", err
	}
	return dir, nil
}
