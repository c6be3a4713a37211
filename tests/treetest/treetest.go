package treetest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Node is what the tree comparison looks at for one entry.
type Node struct {
	Kind   string
	Mode   fs.FileMode
	Size   int64
	SHA256 string
	Target string
	MTime  int64 // UnixNano; files and directories only
}

// Snapshot describes the tree at root: every directory, regular file and
// symlink (other types are left out, as protect leaves them out).
func Snapshot(t testing.TB, root string) map[string]Node {
	t.Helper()
	out := map[string]Node{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		n := Node{Mode: fi.Mode()}
		switch fi.Mode().Type() {
		case 0:
			n.Kind, n.Size, n.MTime = "file", fi.Size(), fi.ModTime().UnixNano()
			n.SHA256 = HashFile(t, p)
		case fs.ModeDir:
			n.Kind, n.MTime = "dir", fi.ModTime().UnixNano()
		case fs.ModeSymlink:
			n.Kind = "symlink"
			if n.Target, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			return nil
		}
		out[rel] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// HashFile is the SHA-256 of a file, in hex.
func HashFile(t testing.TB, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Compare fails the test unless got and want describe the same tree.
func Compare(t testing.TB, got, want map[string]Node) {
	t.Helper()
	for rel, w := range want {
		g, ok := got[rel]
		if !ok {
			t.Errorf("%q missing", rel)
			continue
		}
		if g != w {
			t.Errorf("%q differs:\n got  %+v\n want %+v", rel, g, w)
		}
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			t.Errorf("%q unexpected", rel)
		}
	}
}

// FileBytes is the total size of the regular files of a snapshot.
func FileBytes(s map[string]Node) int64 {
	var n int64
	for _, x := range s {
		if x.Kind == "file" {
			n += x.Size
		}
	}
	return n
}

// RemoveAll removes dir even where modes forbid writing.
func RemoveAll(t testing.TB, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
}
