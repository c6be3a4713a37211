package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// shortLeases: leases of 500ms renewed every 100ms, so hooks of 800ms
// outlive an unrenewed lease.
var shortLeases = engine.Config{LeaseTTL: 500 * time.Millisecond, LeaseRenew: 100 * time.Millisecond}

// TestLeaseRenewedDuringLongHooks: protect and restore whose hooks run
// longer than the lease succeed, because the lease is renewed while they run.
func TestLeaseRenewedDuringLongHooks(t *testing.T) {
	h := newHarness(t, options{engine: shortLeases})
	v := res(volumeType, 1)
	slow := model.Parameters{volumeType: {"delay_ms": "800"}}
	created, err := h.app.Engine.Protect(context.Background(), engine.ProtectRequest{Plan: h.plan(t, []model.Resource{v}, slow)})
	if err != nil {
		t.Fatal(err)
	}
	bank := h.provider(t, noopProvider).Bank
	time.Sleep(1200 * time.Millisecond) // over twice the lease's time to live
	if valid, err := bank.LeaseValid(context.Background(), created.OperationID); err != nil || !valid {
		t.Errorf("lease of a running protect: valid=%v err=%v, want renewed", valid, err)
	}
	h.wait(t)
	cp := h.checkpoint(t, noopProvider, created.ID)
	if cp.Status != model.CheckpointAvailable {
		t.Fatalf("protect: %s %v", cp.Status, cp.ResourcesReason)
	}
	got := h.restore(t, cp, slow)
	if got.Status != model.RestoreSuccess {
		t.Fatalf("restore: %+v", got)
	}
	valid, err := bank.LeaseValid(context.Background(), got.OperationID)
	if err != nil || valid {
		t.Errorf("restore's lease after the end: valid=%v err=%v, want released", valid, err)
	}
}

// TestLeaseLostStopsHook: when an operation's lease is gone (expired while a
// process stalled, or taken away), its running hook is stopped and writes
// nothing more; the resource fails with a reason saying so.
func TestLeaseLostStopsHook(t *testing.T) {
	h := newHarness(t, options{engine: shortLeases})
	v := res(volumeType, 1)
	plan := h.plan(t, []model.Resource{v}, model.Parameters{volumeType: {"delay_ms": "3000"}})
	cp, err := h.app.Engine.Protect(context.Background(), engine.ProtectRequest{Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := h.provider(t, noopProvider).Bank.ReleaseLease(context.Background(), cp.OperationID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	h.wait(t)
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("the hook ran on for %v after its lease was gone", took)
	}
	got := h.checkpoint(t, noopProvider, cp.ID)
	if got.Status != model.CheckpointError || !strings.Contains(got.ResourcesReason[v.StatusKey()], "lease") {
		t.Fatalf("status %s, reasons %v", got.Status, got.ResourcesReason)
	}
}

type panicky struct{}

func (panicky) ResourceTypes() []string           { return []string{volumeType} }
func (panicky) Schemas(string) protection.Schemas { return protection.Schemas{} }
func (panicky) Operation(model.OperationType, model.Resource) (protection.Operation, error) {
	return protection.Operation{Main: func(context.Context, *protection.HookContext) error { panic("boom") }}, nil
}

// TestPluginPanic: a panicking hook fails its resource with a short reason.
func TestPluginPanic(t *testing.T) {
	h := newHarness(t, options{plugins: protection.Registry{
		"karbor-noop-protection-plugin": func(*conf.File) (protection.Plugin, error) { return panicky{}, nil },
	}})
	v := res(volumeType, 1)
	cp := h.protect(t, h.plan(t, []model.Resource{v}, model.Parameters{}))
	reason := cp.ResourcesReason[v.StatusKey()]
	if cp.Status != model.CheckpointError || reason != "plugin panic: boom" {
		t.Fatalf("status %s, reason %q", cp.Status, reason)
	}
}
