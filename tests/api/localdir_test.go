package api_test

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pouchdp/pouch/plugins/localdir"
)

// tree reads every directory and regular file below dir: relative path to
// content ("/" for a directory).
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = []byte("/")
			return nil
		}
		out[rel], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	for p, w := range want {
		if g, ok := got[p]; !ok || !bytes.Equal(g, w) {
			t.Errorf("restored %s: %d bytes (present %v), want %d bytes", p, len(g), ok, len(w))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("restored %s, which was not protected", p)
		}
	}
}

// TestLocalDirectoryCycle protects a directory, deletes it, restores it in
// place and elsewhere, and compares the files byte for byte.
func TestLocalDirectoryCycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := filepath.Join(e.Root, "data")
	big := make([]byte, 3<<20+17)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(big)
	for p, content := range map[string][]byte{
		"a.txt":           []byte("hello\n"),
		"empty":           nil,
		"sub/big.bin":     big,
		"sub/deeper/c.md": []byte("# c\n"),
	} {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "empty-dir"), 0o750); err != nil {
		t.Fatal(err)
	}
	want := tree(t, dir)

	res := localdir.ResourceFor(dir)
	planID := e.plan(t, "data", dirProvider, res)
	cp := e.checkpoint(t, dirProvider, planID)
	r := e.do(t, "GET", "providers/"+dirProvider+"/checkpoints/"+cp, nil).OK(t)
	if st := r.Str(t, "checkpoint", "resources_status", res.StatusKey()); st != "available" {
		t.Fatalf("directory %s in the checkpoint: %s", res.Name, st)
	}

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	id := e.do(t, "POST", "restores", restoreBody(dirProvider, cp)).OK(t).Str(t, "restore", "id")
	e.waitStatus(t, "restores/"+id, "restore", "success")
	sameTree(t, tree(t, dir), want)

	// Elsewhere inside the root, with restore_path; outside it, the restore
	// fails.
	other := filepath.Join(e.Root, "copy")
	body := restoreBody(dirProvider, cp)
	body["restore"].(obj)["parameters"] = obj{dirType: obj{"restore_path": other}}
	id = e.do(t, "POST", "restores", body).OK(t).Str(t, "restore", "id")
	e.waitStatus(t, "restores/"+id, "restore", "success")
	sameTree(t, tree(t, other), want)

	body["restore"].(obj)["parameters"] = obj{dirType: obj{"restore_path": filepath.Join(t.TempDir(), "outside")}}
	id = e.do(t, "POST", "restores", body).OK(t).Str(t, "restore", "id")
	r = e.waitStatus(t, "restores/"+id, "restore", "fail")
	if !strings.Contains(string(r.Raw), "outside the allowed roots") {
		t.Errorf("restore outside the root: %s", r.Raw)
	}
}
