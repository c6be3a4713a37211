package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pouchdp/pouch/plugins/noop"
	"github.com/pouchdp/pouch/shared/app"
	"github.com/pouchdp/pouch/shared/checkpoint"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/tests/redistest"
	"github.com/pouchdp/pouch/tests/swifttest"
)

const noopProvider = "b766f37c-d011-4026-8228-28730d734a3f"

// harness is Pouch assembled as the local runtime does it, on a private
// redis-server, with the noop plugin recording into memory.
type harness struct {
	app  *app.App
	inv  *invoke.Local
	rec  *noop.Memory
	dir  string
	hook *redistest.CountingHook
}

type options struct {
	workers int
	plugins protection.Registry
	// deliver wraps the hook function, e.g. to deliver every task twice.
	deliver func(run invoke.Func) invoke.Func
	logTo   io.Writer
	engine  engine.Config // overrides of the test defaults
	// swift, if set, is the noop provider's bank instead of the local
	// directory.
	swift *swifttest.Swift
}

func newHarness(tb testing.TB, o options) *harness {
	tb.Helper()
	addr := redistest.Addr(tb)
	dir := tb.TempDir()
	provDir := filepath.Join(dir, "providers.d")
	if _, err := provider.WriteDefaults(provDir); err != nil {
		tb.Fatal(err)
	}
	if o.swift != nil {
		noopConf := "[provider]\nname = No-Op Provider\nid = " + noopProvider +
			"\nplugin = karbor-noop-protection-plugin\nbank = karbor-swift-bank-plugin\nenabled = True\n\n" +
			o.swift.ProviderConf(o.swift.Config().Container, "")
		if err := os.WriteFile(filepath.Join(provDir, "noop.conf"), []byte(noopConf), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	if o.workers == 0 {
		o.workers = 16
	}
	if o.logTo == nil {
		o.logTo = io.Discard
		if os.Getenv("POUCH_TEST_LOG") != "" {
			o.logTo = os.Stderr
		}
	}
	log := slog.New(slog.NewTextHandler(o.logTo, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := &harness{inv: invoke.NewLocal(o.workers, log), rec: &noop.Memory{}, dir: dir, hook: &redistest.CountingHook{}}
	a, err := app.New(context.Background(), app.Config{
		RedisAddr: addr, ProvidersDir: provDir, Recorder: h.rec, Plugins: o.plugins,
		Env:    app.EnvWith(map[string]string{"POUCH_DATA_DIR": dir, "POUCH_ALLOWED_ROOTS": dir}),
		Engine: o.engineConfig(),
	}, h.inv, log)
	if err != nil {
		tb.Fatal(err)
	}
	h.app = a
	a.Redis.AddHook(h.hook)
	run := invoke.Func(a.Engine.RunTask)
	if o.deliver != nil {
		run = o.deliver(run)
	}
	h.inv.Register("hook", run)
	tb.Cleanup(func() {
		h.inv.Close()
		a.Close()
	})
	return h
}

func (o options) engineConfig() engine.Config {
	c := o.engine
	if c.RetryBase == 0 {
		c.RetryBase, c.RetryMax = 5*time.Millisecond, 50*time.Millisecond
	}
	return c
}

// wait blocks until no task is queued or running: the operation has finished.
func (h *harness) wait(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.inv.Wait(ctx); err != nil {
		tb.Fatalf("operation did not settle: %v", err)
	}
}

func (h *harness) provider(tb testing.TB, id string) *provider.Provider {
	tb.Helper()
	p, err := h.app.Providers.Get(id)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func (h *harness) checkpoint(tb testing.TB, providerID, id string) *model.Checkpoint {
	tb.Helper()
	p := h.provider(tb, providerID)
	cp, err := (&checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}).Get(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return cp
}

func (h *harness) plan(tb testing.TB, resources []model.Resource, params model.Parameters) *model.Plan {
	tb.Helper()
	now := time.Now().UTC()
	p := &model.Plan{ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", now.UnixNano()&0xffffffff, now.UnixNano()&0xffffffffffff),
		Name: tb.Name(), ProviderID: noopProvider, ProjectID: "demo", Status: model.PlanSuspended,
		Resources: resources, Parameters: params, CreatedAt: now}
	if err := h.app.Store.Plans.Create(context.Background(), p); err != nil {
		tb.Fatal(err)
	}
	return p
}

// protect checkpoints plan and waits for the end.
func (h *harness) protect(tb testing.TB, plan *model.Plan) *model.Checkpoint {
	tb.Helper()
	cp, err := h.app.Engine.Protect(context.Background(), engine.ProtectRequest{Plan: plan,
		Scope: protection.Scope{ProjectID: plan.ProjectID}})
	if err != nil {
		tb.Fatal(err)
	}
	h.wait(tb)
	return h.checkpoint(tb, plan.ProviderID, cp.ID)
}

// restore restores checkpoint cp with params and waits for the end.
func (h *harness) restore(tb testing.TB, cp *model.Checkpoint, params model.Parameters) *model.Restore {
	tb.Helper()
	ctx := context.Background()
	rs := &model.Restore{ID: uuid.NewString(), ProjectID: cp.ProjectID, ProviderID: cp.ProviderID,
		CheckpointID: cp.ID, Status: model.RestoreInProgress, Parameters: params, CreatedAt: time.Now()}
	if err := h.app.Store.Restores.Create(ctx, rs); err != nil {
		tb.Fatal(err)
	}
	if err := h.app.Engine.Restore(ctx, rs, protection.Scope{ProjectID: cp.ProjectID}, false); err != nil {
		tb.Fatal(err)
	}
	h.wait(tb)
	got, err := h.app.Store.Restores.Get(ctx, rs.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// inventory is a protectable over a fixed table of resources and their
// dependencies: a stand-in for a cloud's inventory when no cloud is needed
// (the OpenStack protectables replace it in their own tests).
type inventory struct {
	typ     string
	parents []string
	deps    map[string][]model.Resource // parent id -> dependents of this type
}

func (i inventory) Type() string          { return i.typ }
func (i inventory) ParentTypes() []string { return i.parents }
func (i inventory) List(context.Context, protection.Scope) ([]model.Resource, error) {
	var out []model.Resource
	for _, rs := range i.deps {
		out = append(out, rs...)
	}
	return out, nil
}
func (i inventory) Show(_ context.Context, _ protection.Scope, id string) (model.Resource, error) {
	for _, rs := range i.deps {
		if j := slices.IndexFunc(rs, func(r model.Resource) bool { return r.ID == id }); j >= 0 {
			return rs[j], nil
		}
	}
	return model.Resource{}, protection.ErrNotFound
}
func (i inventory) Dependents(_ context.Context, _ protection.Scope, parent model.Resource) ([]model.Resource, error) {
	return i.deps[parent.ID], nil
}

const (
	projectType = "OS::Keystone::Project"
	serverType  = "OS::Nova::Server"
	volumeType  = "OS::Cinder::Volume"
)

func res(typ string, n int) model.Resource {
	return model.Resource{Type: typ, ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Name: fmt.Sprintf("%s-%d", typ, n)}
}

// threeLevel is project -> servers -> volumes, with volume 5 shared by both
// servers: P(1) -> S(2), S(3); S2 -> V4, V5; S3 -> V5, V6.
func threeLevel(h *harness) (model.Resource, map[string]model.Resource) {
	p, s2, s3, v4, v5, v6 := res(projectType, 1), res(serverType, 2), res(serverType, 3), res(volumeType, 4), res(volumeType, 5), res(volumeType, 6)
	h.app.Catalog.Add(inventory{typ: serverType, parents: []string{projectType}, deps: map[string][]model.Resource{p.ID: {s2, s3}}})
	h.app.Catalog.Add(inventory{typ: volumeType, parents: []string{serverType}, deps: map[string][]model.Resource{s2.ID: {v4, v5}, s3.ID: {v5, v6}}})
	all := map[string]model.Resource{}
	for _, r := range []model.Resource{p, s2, s3, v4, v5, v6} {
		all[r.ID] = r
	}
	return p, all
}
