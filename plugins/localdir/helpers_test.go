package localdir

import (
	"context"
	"log/slog"
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
