package localdir

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pouchdp/pouch/tests/treetest"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

const testChunk = 4096

// randomBytes is n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

// buildTree makes a tree with every kind of entry protect must handle, in
// dir (created), and returns whether it holds a FIFO.
func buildTree(t *testing.T, dir string, chunk int) (fifo bool) {
	t.Helper()
	base := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	stamp := 0
	mtime := func() time.Time { stamp++; return base.Add(time.Duration(stamp)*time.Hour + time.Duration(stamp*7919)) }
	type dirAttr struct {
		path string
		mode fs.FileMode
	}
	var dirs []dirAttr
	mkdir := func(rel string, mode fs.FileMode) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dirAttr{p, mode})
	}
	file := func(rel string, data []byte, mode fs.FileMode) {
		p := filepath.Join(dir, rel)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, time.Time{}, mtime()); err != nil {
			t.Fatal(err)
		}
	}
	link := func(rel, target string) {
		if err := os.Symlink(target, filepath.Join(dir, rel)); err != nil {
			t.Fatal(err)
		}
	}

	mkdir(".", 0o755)
	mkdir("emptydir", 0o700)
	mkdir("a", 0o755)
	mkdir("a/b", 0o750)
	mkdir("a/b/c", 0o711)
	mkdir("links", 0o755)
	mkdir("readonly", 0o555)
	mkdir("sticky", 0o755|fs.ModeSticky)

	file("empty.txt", nil, 0o644)
	file("exec.sh", []byte("#!/bin/sh\necho hi\n"), 0o755)
	file("a/b/c/deep.txt", []byte("deep down\n"), 0o600)
	file("a/b/empty", nil, 0o400)
	file("exact.bin", randomBytes(1, chunk), 0o644)
	file("exact_plus_one.bin", randomBytes(2, chunk+1), 0o644)
	file("exact_minus_one.bin", randomBytes(3, chunk-1), 0o644)
	file("multi.bin", randomBytes(4, 3*chunk+17), 0o640)
	file("readonly/inside.txt", []byte("can't touch this"), 0o444)
	file("sticky/setuid", []byte("x"), 0o755|fs.ModeSetuid)
	file("space & ünïcode.txt", []byte("names"), 0o644)
	file("bad\xffname.txt", []byte("not UTF-8"), 0o644)

	link("links/rel", "../a/b/c/deep.txt")
	link("links/abs", filepath.Join(dir, "exact.bin"))
	link("links/dangling", "does/not/exist")
	link("links/dirlink", "../a")
	link("links/bad\xfftarget", "bad\xffname.txt")

	if err := mkfifo(filepath.Join(dir, "a/fifo")); err == nil {
		fifo = true
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i].path, dirs[i].mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(dirs[i].path, time.Time{}, mtime()); err != nil {
			t.Fatal(err)
		}
	}
	return fifo
}

func TestProtectWipeRestore(t *testing.T) {
	e := newEnv(t, testChunk)
	src := filepath.Join(e.root, "src")
	fifo := buildTree(t, src, testChunk)
	want := treetest.Snapshot(t, src)
	r := ResourceFor(src)

	hc := e.mustRun(model.OpProtect, r, nil)
	prog := hc.Progress.(*counter)
	if got, want := prog.total.Load(), treetest.FileBytes(want); got != want || prog.done.Load() != want {
		t.Errorf("protect progress: total %d, done %d; want %d", got, prog.done.Load(), want)
	}
	if n := prog.totalCalls.Load(); n != 1 {
		t.Errorf("AddTotal called %d times, want once", n)
	}

	// The manifest notes the FIFO as skipped; the metadata sums up.
	m := e.manifest(r)
	if fifo {
		found := false
		for _, en := range m.Entries {
			if en.Path == "a/fifo" {
				found = en.Kind == kindSkipped && strings.Contains(en.Note, "FIFO")
			}
		}
		if !found {
			t.Errorf("a/fifo not listed as skipped in the manifest")
		}
	}
	var md Metadata
	if err := bank.GetJSON(context.Background(), e.bank, protection.ResourceDataKey(e.cp, r.ID, metadataObject), &md); err != nil {
		t.Fatal(err)
	}
	if md.Bytes != treetest.FileBytes(want) || md.Path != src || md.ChunkSize != testChunk {
		t.Errorf("metadata %+v", md)
	}
	if data, _ := bank.GetBytes(context.Background(), e.bank, protection.ResourceDataKey(e.cp, r.ID, statusObject)); string(data) != "available" {
		t.Errorf("status %q, want available", data)
	}
	// Chunks are numbered 1..N across the directory; none exceeds the chunk size.
	seen := map[int]bool{}
	for _, en := range m.Entries {
		for _, c := range en.Chunks {
			if c.Size > testChunk || seen[c.N] {
				t.Errorf("chunk %+v of %s", c, en.Path)
			}
			seen[c.N] = true
		}
	}
	for n := 1; n <= md.Chunks; n++ {
		if !seen[n] {
			t.Errorf("chunk %d not in the manifest", n)
		}
	}
	if got := len(e.keys(r)); got != md.Chunks+3 {
		t.Errorf("%d objects, want %d chunks + status, manifest, metadata", got, md.Chunks)
	}

	treetest.RemoveAll(t, src)

	hc = e.mustRun(model.OpRestore, r, nil)
	treetest.Compare(t, treetest.Snapshot(t, src), want)
	prog = hc.Progress.(*counter)
	if prog.total.Load() != treetest.FileBytes(want) || prog.done.Load() != treetest.FileBytes(want) {
		t.Errorf("restore progress: total %d, done %d; want %d", prog.total.Load(), prog.done.Load(), treetest.FileBytes(want))
	}
	if st, _ := hc.Status.(*statuses).get(ResourceType + "#" + r.ID); st != "available" {
		t.Errorf("restore status %q, want available", st)
	}
	if id, ok, _ := hc.NewResources.Get(context.Background(), r.ID); !ok || id != r.ID {
		t.Errorf("new resource of %s: %q, %v; want itself", r.ID, id, ok)
	}

	// Restoring again over the restored tree is harmless (a retried hook).
	e.mustRun(model.OpRestore, r, nil)
	treetest.Compare(t, treetest.Snapshot(t, src), want)
}

func TestRestoreToOtherPath(t *testing.T) {
	e := newEnv(t, testChunk)
	src := filepath.Join(e.root, "src")
	buildTree(t, src, testChunk)
	want := treetest.Snapshot(t, src)
	r := ResourceFor(src)
	e.mustRun(model.OpProtect, r, nil)

	tests := []struct {
		name   string
		target string
		params map[string]any
		setup  func(hc *protection.HookContext)
	}{
		{"restore_path", filepath.Join(e.root, "elsewhere", "copy"),
			map[string]any{"restore_path": filepath.Join(e.root, "elsewhere", "copy")}, nil},
		{"restore_path with trailing slash", filepath.Join(e.root, "copy2"),
			map[string]any{"restore_path": filepath.Join(e.root, "copy2") + "/"}, nil},
		{"restore target", filepath.Join(e.root, "target"), nil,
			func(hc *protection.HookContext) { hc.RestoreTarget = filepath.Join(e.root, "target") }},
		{"restore_path beats restore target", filepath.Join(e.root, "copy3"),
			map[string]any{"restore_path": filepath.Join(e.root, "copy3")},
			func(hc *protection.HookContext) { hc.RestoreTarget = filepath.Join(e.root, "target") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := e.hookContext(model.OpRestore, r, tt.params)
			if tt.setup != nil {
				tt.setup(hc)
			}
			if err := e.runHooks(hc); err != nil {
				t.Fatal(err)
			}
			treetest.Compare(t, treetest.Snapshot(t, tt.target), want)
			treetest.Compare(t, treetest.Snapshot(t, src), want) // original untouched
			newID := IDFor(tt.target)
			if id, _, _ := hc.NewResources.Get(context.Background(), r.ID); id != newID {
				t.Errorf("new resource %q, want %q", id, newID)
			}
			if st, _ := hc.Status.(*statuses).get(ResourceType + "#" + newID); st != "available" {
				t.Errorf("status of %s: %q", tt.target, st)
			}
		})
	}
}

// corruptChunk overwrites chunk number chunk (0-based) of file rel and
// returns its object number.
func (e *env) corruptChunk(r model.Resource, rel string, chunk int) int {
	e.t.Helper()
	for _, en := range e.manifest(r).Entries {
		if en.Path == rel {
			c := en.Chunks[chunk]
			bad := bytes.Repeat([]byte{0xAB}, int(c.Size))
			if err := e.bank.Put(context.Background(), protection.ResourceDataKey(e.cp, r.ID, dataObject(c.N)), bytes.NewReader(bad)); err != nil {
				e.t.Fatal(err)
			}
			return c.N
		}
	}
	e.t.Fatalf("%s not in the manifest", rel)
	return 0
}

func TestRestoreCorruptChunk(t *testing.T) {
	e := newEnv(t, testChunk)
	src := filepath.Join(e.root, "src")
	buildTree(t, src, testChunk)
	r := ResourceFor(src)
	e.mustRun(model.OpProtect, r, nil)
	n := e.corruptChunk(r, "multi.bin", 1)

	// Into a new directory: the file must not appear at its final name.
	dst := filepath.Join(e.root, "dst")
	hc, err := e.run(model.OpRestore, r, map[string]any{"restore_path": dst})
	if err == nil {
		t.Fatal("restore of a corrupt chunk succeeded")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), `"multi.bin"`) || !strings.Contains(err.Error(), fmt.Sprintf("data_%d", n)) {
		t.Errorf("error does not name the file and chunk: %v", err)
	}
	if !errors.Is(err, ErrCorrupt) || protection.IsTransient(err) {
		t.Errorf("error should be permanent ErrCorrupt: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dst, "multi.bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("multi.bin exists after a failed restore: %v", err)
	}
	filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".pouch-restore-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
	if st, reason := hc.Status.(*statuses).get(ResourceType + "#" + IDFor(dst)); st != "error" || !strings.Contains(reason, "multi.bin") {
		t.Errorf("status %q, reason %q", st, reason)
	}

	// Over the original: the original file is left as it was.
	want := treetest.HashFile(t, filepath.Join(src, "multi.bin"))
	if _, err := e.run(model.OpRestore, r, nil); err == nil {
		t.Fatal("restore of a corrupt chunk succeeded")
	}
	if got := treetest.HashFile(t, filepath.Join(src, "multi.bin")); got != want {
		t.Errorf("original multi.bin changed by a failed restore")
	}

	// Verify finds it too, without writing anything.
	hc, err = e.run(model.OpVerify, r, nil)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "multi.bin") {
		t.Errorf("verify: %v", err)
	}
	if st, _ := hc.Status.(*statuses).get(ResourceType + "#" + r.ID); st != "error" {
		t.Errorf("verify status %q, want error", st)
	}
}

func TestVerify(t *testing.T) {
	e := newEnv(t, testChunk)
	src := filepath.Join(e.root, "src")
	buildTree(t, src, testChunk)
	r := ResourceFor(src)
	e.mustRun(model.OpProtect, r, nil)
	hc := e.mustRun(model.OpVerify, r, nil)
	if st, _ := hc.Status.(*statuses).get(ResourceType + "#" + r.ID); st != "available" {
		t.Errorf("verify status %q", st)
	}
	want := treetest.FileBytes(treetest.Snapshot(t, src))
	if p := hc.Progress.(*counter); p.total.Load() != want || p.done.Load() != want {
		t.Errorf("verify progress %d/%d, want %d", p.done.Load(), p.total.Load(), want)
	}

	// A missing chunk is a permanent error.
	if err := e.bank.Delete(context.Background(), protection.ResourceDataKey(e.cp, r.ID, dataObject(1))); err != nil {
		t.Fatal(err)
	}
	_, err := e.run(model.OpVerify, r, nil)
	if !errors.Is(err, bank.ErrNotFound) || protection.IsTransient(err) {
		t.Errorf("verify with a missing chunk: %v", err)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t, testChunk)
	src := filepath.Join(e.root, "src")
	other := filepath.Join(e.root, "other")
	buildTree(t, src, testChunk)
	buildTree(t, other, testChunk)
	r, ro := ResourceFor(src), ResourceFor(other)
	e.mustRun(model.OpProtect, r, nil)
	e.mustRun(model.OpProtect, ro, nil)
	before := len(e.keys(ro))

	hc := e.mustRun(model.OpDelete, r, nil)
	if keys := e.keys(r); len(keys) != 0 {
		t.Errorf("objects left after delete: %v", keys)
	}
	if got := len(e.keys(ro)); got != before {
		t.Errorf("other resource has %d objects after delete, want %d", got, before)
	}
	if st, _ := hc.Status.(*statuses).get(ResourceType + "#" + r.ID); st != "deleted" {
		t.Errorf("delete status %q", st)
	}
	// Deleting again (a retried hook) is fine.
	e.mustRun(model.OpDelete, r, nil)

	// A directory no longer allowed can still have its backup deleted.
	e2 := &env{t: t, root: e.root, bank: e.bank, cp: e.cp}
	var err error
	if e2.p, err = NewPlugin(Options{AllowedRoots: []string{t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	e2.mustRun(model.OpDelete, ro, nil)
	if keys := e.keys(ro); len(keys) != 0 {
		t.Errorf("objects left after delete: %v", keys)
	}
}

func TestExclude(t *testing.T) {
	e := newEnv(t, testChunk)
	src := filepath.Join(e.root, "src")
	buildTree(t, src, testChunk)
	r := ResourceFor(src)
	params := map[string]any{"exclude": []any{"*.bin", "links", "/a/b/c"}}
	e.mustRun(model.OpProtect, r, params)

	want := treetest.Snapshot(t, src)
	for rel := range want {
		s := filepath.ToSlash(rel)
		if strings.HasSuffix(s, ".bin") || s == "links" || strings.HasPrefix(s, "links/") || s == "a/b/c" || strings.HasPrefix(s, "a/b/c/") {
			delete(want, rel)
		}
	}
	dst := filepath.Join(e.root, "dst")
	e.mustRun(model.OpRestore, r, map[string]any{"restore_path": dst})
	got := treetest.Snapshot(t, dst)
	// Directories whose contents were excluded keep their original mtime,
	// which is what was saved: compare everything.
	treetest.Compare(t, got, want)

	for _, bad := range []any{[]any{"[a-"}, []any{3}, 42} {
		if _, err := e.run(model.OpProtect, r, map[string]any{"exclude": bad}); err == nil {
			t.Errorf("exclude %v accepted", bad)
		}
	}
}

func TestProtectAgainLeavesNoStaleChunks(t *testing.T) {
	e := newEnv(t, testChunk)
	src := filepath.Join(e.root, "src")
	buildTree(t, src, testChunk)
	r := ResourceFor(src)
	e.mustRun(model.OpProtect, r, nil)
	first := len(e.keys(r))
	if err := os.Remove(filepath.Join(src, "multi.bin")); err != nil {
		t.Fatal(err)
	}
	e.mustRun(model.OpProtect, r, nil) // same checkpoint: a retried attempt
	if got := len(e.keys(r)); got != first-4 {
		t.Errorf("%d objects after protecting again without multi.bin (4 chunks), want %d", got, first-4)
	}
}

// TestFileChangingWhileRead feeds storeFile an entry whose listed size is not
// the file's, as when the file shrinks or grows between listing and reading.
func TestFileChangingWhileRead(t *testing.T) {
	e := newEnv(t, 16)
	data := randomBytes(9, 100)
	if err := os.WriteFile(filepath.Join(e.root, "f"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, listed := range []int64{150, 50} {
		t.Run(fmt.Sprint(listed), func(t *testing.T) {
			hc := e.hookContext(model.OpProtect, ResourceFor(e.root), nil)
			prog := hc.Progress.(*counter)
			fi, _ := os.Stat(filepath.Join(e.root, "f"))
			en := Entry{Path: "f", Kind: kindFile, Size: listed, MTime: fi.ModTime()}
			chunks := 0
			up := bank.NewUploader(context.Background(), hc.Bank, 2, 16, progress{prog}.done)
			if err := storeFile(context.Background(), hc, testLog(t), progress{prog}, up, e.root, &en, &chunks); err != nil {
				t.Fatal(err)
			}
			if err := up.Wait(); err != nil {
				t.Fatal(err)
			}
			read := min(listed, 100)
			if en.Size != read || en.Note == "" {
				t.Errorf("entry %+v: want size %d and a note", en, read)
			}
			var sum int64
			for _, c := range en.Chunks {
				sum += c.Size
			}
			if sum != read || en.SHA256 != sha(data[:read]) {
				t.Errorf("chunks hold %d bytes, checksum %s; want %d, %s", sum, en.SHA256, read, sha(data[:read]))
			}
			if prog.done.Load() != listed {
				t.Errorf("done %d, want %d (the listed size)", prog.done.Load(), listed)
			}
		})
	}
}

// putFailer fails the Puts of data chunks the way a remote bank may.
type putFailer struct {
	bank.Bank
	err error
}

func (b putFailer) Put(ctx context.Context, key string, r io.Reader) error {
	if strings.Contains(key, "/data_") {
		return b.err
	}
	return b.Bank.Put(ctx, key, r)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestTransientBankErrors(t *testing.T) {
	e := newEnv(t, testChunk)
	src := filepath.Join(e.root, "src")
	buildTree(t, src, testChunk)
	r := ResourceFor(src)
	e.mustRun(model.OpProtect, r, nil)

	tests := []struct {
		name      string
		err       error
		transient bool
	}{
		{"deadline", fmt.Errorf("put: %w", context.DeadlineExceeded), true},
		{"connection reset", &os.SyscallError{Syscall: "write", Err: syscall.ECONNRESET}, true},
		{"bad key", bank.ErrInvalidKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := e.hookContext(model.OpProtect, r, nil)
			hc.Bank = putFailer{e.bank, tt.err}
			err := e.runHooks(hc)
			if err == nil || protection.IsTransient(err) != tt.transient {
				t.Errorf("error %v: transient %v, want %v", err, protection.IsTransient(err), tt.transient)
			}
		})
	}
}

// TestRestoreDoesNotWriteThroughSymlinks: symlinks already in the target
// tree are replaced or refused, never written through.
func TestRestoreDoesNotWriteThroughSymlinks(t *testing.T) {
	e := newEnv(t, testChunk)
	outside, _ := filepath.EvalSymlinks(t.TempDir())
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(e.root, "src")
	if err := os.MkdirAll(filepath.Join(src, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"f", "a/g"} {
		if err := os.WriteFile(filepath.Join(src, f), []byte("new "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := ResourceFor(src)
	e.mustRun(model.OpProtect, r, nil)

	// A symlink where a file goes is replaced by the file.
	dst := filepath.Join(e.root, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dst, "f")); err != nil {
		t.Fatal(err)
	}
	e.mustRun(model.OpRestore, r, map[string]any{"restore_path": dst})
	if fi, err := os.Lstat(filepath.Join(dst, "f")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("f is not a regular file after restore: %v", err)
	}

	// A symlink where a directory goes is refused.
	dst2 := filepath.Join(e.root, "dst2")
	if err := os.Mkdir(dst2, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dst2, "a")); err != nil {
		t.Fatal(err)
	}
	_, err := e.run(model.OpRestore, r, map[string]any{"restore_path": dst2})
	if err == nil || !strings.Contains(err.Error(), "in the way") {
		t.Errorf("restore through a symlinked directory: %v", err)
	}

	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Errorf("file outside the roots overwritten: %q", data)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("files written outside the roots: %v", entries)
	}
}
