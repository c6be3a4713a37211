package localdir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/bank/fsbank"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// counter is a protection.Progress that adds up what it is told.
type counter struct {
	total, done atomic.Int64
	totalCalls  atomic.Int64
}

func (c *counter) AddTotal(n int64) { c.total.Add(n); c.totalCalls.Add(1) }
func (c *counter) AddDone(n int64)  { c.done.Add(n) }

// statuses is a protection.StatusReporter keeping the last status per key.
type statuses struct {
	mu     sync.Mutex
	status map[string]string
	reason map[string]string
}

func (s *statuses) ReportStatus(_ context.Context, key, status, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == nil {
		s.status, s.reason = map[string]string{}, map[string]string{}
	}
	s.status[key], s.reason[key] = status, reason
	return nil
}

func (s *statuses) get(key string) (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status[key], s.reason[key]
}

// newResources is a protection.NewResources in memory.
type newResources struct {
	mu sync.Mutex
	m  map[string]string
}

func (n *newResources) Get(_ context.Context, old string) (string, bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	v, ok := n.m[old]
	return v, ok, nil
}

func (n *newResources) Set(_ context.Context, old, new string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = map[string]string{}
	}
	n.m[old] = new
	return nil
}

// testLog is an slog.Logger writing to t.Log.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// env is one allowed root, a plugin confined to it and a real fsbank.
type env struct {
	t    *testing.T
	root string // allowed root, symlinks resolved
	p    *Plugin
	bank bank.Bank
	cp   string
}

func newEnv(t *testing.T, chunkSize int64) *env {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlugin(Options{AllowedRoots: []string{root}, ChunkSize: chunkSize, InstanceDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := fsbank.New(t.TempDir(), "karbor")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, root: root, p: p, bank: b, cp: "cp-1"}
}

// hookContext builds the context of one operation on r.
func (e *env) hookContext(op model.OperationType, r model.Resource, params map[string]any) *protection.HookContext {
	return &protection.HookContext{
		OperationID:  "op-" + string(op),
		Operation:    op,
		Resource:     r,
		Parameters:   params,
		CheckpointID: e.cp,
		ProviderID:   "provider-1",
		ProjectID:    "project-1",
		Bank:         e.bank,
		Progress:     &counter{},
		Status:       &statuses{},
		NewResources: &newResources{},
		Log:          testLog(e.t),
		Attempt:      1,
	}
}

// runHooks runs every hook of hc.Operation on hc.Resource, in order, as the
// engine would, stopping at the first error.
func (e *env) runHooks(hc *protection.HookContext) error {
	op, err := e.p.Operation(hc.Operation, hc.Resource)
	if err != nil {
		return err
	}
	for _, h := range protection.Hooks {
		if f := op.Func(h); f != nil {
			hc.Hook = h
			if err := f(context.Background(), hc); err != nil {
				return err
			}
		}
	}
	return nil
}

// run runs op on r and returns the hook context (for progress and status).
func (e *env) run(op model.OperationType, r model.Resource, params map[string]any) (*protection.HookContext, error) {
	hc := e.hookContext(op, r, params)
	return hc, e.runHooks(hc)
}

// mustRun is run that fails the test on error.
func (e *env) mustRun(op model.OperationType, r model.Resource, params map[string]any) *protection.HookContext {
	e.t.Helper()
	hc, err := e.run(op, r, params)
	if err != nil {
		e.t.Fatalf("%s %s: %v", op, r.Name, err)
	}
	return hc
}

// keys lists the bank objects of r in the checkpoint.
func (e *env) keys(r model.Resource) []string {
	e.t.Helper()
	keys, err := e.bank.List(context.Background(), bank.ListOptions{Prefix: protection.ResourceDataKey(e.cp, r.ID, "") + "/"})
	if err != nil {
		e.t.Fatal(err)
	}
	return keys
}

// manifest reads the manifest of r from the bank.
func (e *env) manifest(r model.Resource) Manifest {
	e.t.Helper()
	var m Manifest
	if err := bank.GetJSON(context.Background(), e.bank, protection.ResourceDataKey(e.cp, r.ID, manifestObject), &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// node is what the tree comparison looks at for one entry.
type node struct {
	Kind   string
	Mode   fs.FileMode
	Size   int64
	SHA256 string
	Target string
	MTime  int64 // UnixNano; files and directories only
}

// snapshot describes the tree at root: every directory, regular file and
// symlink (other types are left out, as protect leaves them out).
func snapshot(t *testing.T, root string) map[string]node {
	t.Helper()
	out := map[string]node{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		n := node{Mode: fi.Mode()}
		switch fi.Mode().Type() {
		case 0:
			n.Kind, n.Size, n.MTime = "file", fi.Size(), fi.ModTime().UnixNano()
			n.SHA256 = hashFile(t, p)
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

func hashFile(t *testing.T, p string) string {
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

// compareTrees fails the test unless got and want describe the same tree.
func compareTrees(t *testing.T, got, want map[string]node) {
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

// fileBytes is the total size of the regular files of a snapshot.
func fileBytes(s map[string]node) int64 {
	var n int64
	for _, x := range s {
		if x.Kind == "file" {
			n += x.Size
		}
	}
	return n
}

// removeTree removes dir even where modes forbid writing.
func removeTree(t *testing.T, dir string) {
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
