package engine_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/checkpoint"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/invoke"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/shared/store"
	"github.com/pouchdp/pouch/tests/swifttest"
)

// dyingHarness is a harness whose hook process can be made "dead": while
// dead, every task sent to the hook function is lost, as when the process
// running it is killed before it records anything.
type dyingHarness struct {
	*harness
	dead atomic.Bool
}

func newDyingHarness(t *testing.T, sw *swifttest.Swift) *dyingHarness {
	d := &dyingHarness{}
	d.harness = newHarness(t, options{
		swift:  sw,
		engine: engine.Config{LeaseTTL: time.Second, LeaseRenew: 200 * time.Millisecond},
		deliver: func(run invoke.Func) invoke.Func {
			return func(ctx context.Context, payload []byte) error {
				if d.dead.Load() {
					return nil
				}
				return run(ctx, payload)
			}
		},
	})
	return d
}

// waitLeaseGone waits until the operation's lease has expired.
func (d *dyingHarness) waitLeaseGone(t *testing.T, opID string) {
	t.Helper()
	b := d.provider(t, noopProvider).Bank
	deadline := time.Now().Add(10 * time.Second)
	for {
		valid, err := b.LeaseValid(context.Background(), opID)
		if err != nil {
			t.Fatal(err)
		}
		if !valid {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease of %s still valid after 10s", opID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *dyingHarness) sweep(t *testing.T) int {
	t.Helper()
	n, err := d.app.Engine.Sweep(context.Background())
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	return n
}

func (d *dyingHarness) dataKeys(t *testing.T, cpID string) []string {
	t.Helper()
	keys, err := d.provider(t, noopProvider).Bank.List(context.Background(),
		bank.ListOptions{Prefix: checkpoint.DataPrefix(cpID) + "resource-data/"})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestReapDeadProtect: a protect whose hook process died keeps its
// checkpoint protecting until its lease expires; the next sweep then moves
// it to error with the reason, and the plugins' delete hooks clean the
// partial data it left.
func TestReapDeadProtect(t *testing.T) { forEachBank(t, testReapDeadProtect) }

// forEachBank runs test on the local-directory bank and on a real Swift.
func forEachBank(t *testing.T, test func(t *testing.T, sw *swifttest.Swift)) {
	t.Run("fs", func(t *testing.T) { test(t, nil) })
	t.Run("swift", func(t *testing.T) { test(t, swifttest.Start(t)) })
}

func testReapDeadProtect(t *testing.T, sw *swifttest.Swift) {
	d := newDyingHarness(t, sw)
	ctx := context.Background()
	v := res(volumeType, 1)
	d.dead.Store(true)
	cp, err := d.app.Engine.Protect(ctx, engine.ProtectRequest{Plan: d.plan(t, []model.Resource{v}, nil)})
	if err != nil {
		t.Fatal(err)
	}
	// What the dead hook had written.
	partial := checkpoint.DataPrefix(cp.ID) + "resource-data/" + v.ID + "/data_1"
	if err := d.provider(t, noopProvider).Bank.Put(ctx, partial, strings.NewReader("half")); err != nil {
		t.Fatal(err)
	}
	if n := d.sweep(t); n != 0 {
		t.Fatalf("a sweep while the lease lives reaped %d operations", n)
	}
	if got := d.checkpoint(t, noopProvider, cp.ID); got.Status != model.CheckpointProtecting {
		t.Fatalf("before the lease expired: %s", got.Status)
	}
	d.waitLeaseGone(t, cp.OperationID)
	d.dead.Store(false) // the cleanup's hooks run
	if n := d.sweep(t); n != 1 {
		t.Fatalf("sweep after the lease expired reaped %d operations, want 1", n)
	}
	d.wait(t)
	got := d.checkpoint(t, noopProvider, cp.ID)
	if got.Status != model.CheckpointError || !strings.Contains(got.ResourcesReason["operation"], "lease expired") {
		t.Fatalf("reaped checkpoint: %s %v", got.Status, got.ResourcesReason)
	}
	if got.ExtraInfo[engine.CleanupStatusKey] != engine.CleanupDone {
		t.Errorf("cleanup status %v, want %s", got.ExtraInfo[engine.CleanupStatusKey], engine.CleanupDone)
	}
	if keys := d.dataKeys(t, cp.ID); len(keys) != 0 {
		t.Errorf("partial data left after cleanup: %v", keys)
	}
	var deleteRuns int
	for _, ev := range d.rec.Events() {
		if ev.Operation == model.OpDelete && ev.Resource.ID == v.ID {
			deleteRuns++
		}
	}
	if deleteRuns != 4 {
		t.Errorf("the plugin's delete hooks ran %d times for the cleanup, want 4", deleteRuns)
	}
	logs, err := d.app.Store.OperationLogs.List(ctx, store.ListOptions{Project: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	var protectLog *model.OperationLog
	for _, l := range logs {
		if l.OperationType == string(model.OpProtect) && l.CheckpointID != nil && *l.CheckpointID == cp.ID {
			protectLog = l
		}
	}
	if protectLog == nil || protectLog.Status != model.CheckpointError || protectLog.ErrorInfo == nil ||
		!strings.Contains(*protectLog.ErrorInfo, "lease expired") {
		t.Errorf("protect's operation log: %+v", protectLog)
	}
	if n := d.sweep(t); n != 0 {
		t.Errorf("a second sweep reaped %d more", n)
	}
	// The user can still delete it.
	if _, err := d.app.Engine.Delete(ctx, noopProvider, cp.ID, protection.Scope{ProjectID: "demo"}, false); err != nil {
		t.Fatal(err)
	}
	d.wait(t)
	if got := d.checkpoint(t, noopProvider, cp.ID); got.Status != model.CheckpointDeleted {
		t.Fatalf("delete after cleanup: %s", got.Status)
	}
}

// TestReapDeadDeleteAndRestore: a delete whose process died is reaped and
// run again to the end; a restore whose process died fails with the reason
// and gives back the checkpoint (its read guard), so it can be deleted.
func TestReapDeadDeleteAndRestore(t *testing.T) { forEachBank(t, testReapDeadDeleteAndRestore) }

func testReapDeadDeleteAndRestore(t *testing.T, sw *swifttest.Swift) {
	d := newDyingHarness(t, sw)
	ctx := context.Background()
	v := res(volumeType, 1)
	plan := d.plan(t, []model.Resource{v}, nil)
	cp := d.protect(t, plan)
	if cp.Status != model.CheckpointAvailable {
		t.Fatalf("protect: %s", cp.Status)
	}

	d.dead.Store(true)
	rs := &model.Restore{ID: "11111111-2222-4333-8444-555555555555", ProjectID: "demo", ProviderID: noopProvider,
		CheckpointID: cp.ID, Status: model.RestoreInProgress, CreatedAt: time.Now()}
	if err := d.app.Store.Restores.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := d.app.Engine.Restore(ctx, rs, protection.Scope{ProjectID: "demo"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.app.Engine.Delete(ctx, noopProvider, cp.ID, protection.Scope{ProjectID: "demo"}, false); !errors.Is(err, engine.ErrConflict) {
		t.Fatalf("delete during a restore: %v, want a conflict", err)
	}
	d.waitLeaseGone(t, rs.OperationID)
	if n := d.sweep(t); n != 1 {
		t.Fatalf("sweep reaped %d, want the restore", n)
	}
	got, err := d.app.Store.Restores.Get(ctx, rs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != model.RestoreFail || !strings.Contains(got.ResourcesReason["operation"], "lease expired") {
		t.Fatalf("reaped restore: %s %v", got.Status, got.ResourcesReason)
	}

	del, err := d.app.Engine.Delete(ctx, noopProvider, cp.ID, protection.Scope{ProjectID: "demo"}, false)
	if err != nil {
		t.Fatalf("delete after the reaped restore: %v", err)
	}
	d.waitLeaseGone(t, del.OperationID)
	if got := d.checkpoint(t, noopProvider, cp.ID); got.Status != model.CheckpointDeleting {
		t.Fatalf("dead delete: %s", got.Status)
	}
	d.dead.Store(false)
	if n := d.sweep(t); n != 1 {
		t.Fatalf("sweep reaped %d, want the delete", n)
	}
	d.wait(t)
	if got := d.checkpoint(t, noopProvider, cp.ID); got.Status != model.CheckpointDeleted {
		t.Fatalf("reaped delete run again: %s %v", got.Status, got.ResourcesReason)
	}
}

// stubborn is a plugin whose main hook writes, then stalls without looking
// at its context (a plugin stuck in a call that ignores cancellation), then
// writes again.
type stubborn struct {
	stall     time.Duration
	secondErr chan error
}

func (stubborn) ResourceTypes() []string           { return []string{volumeType} }
func (stubborn) Schemas(string) protection.Schemas { return protection.Schemas{} }
func (s stubborn) Operation(op model.OperationType, _ model.Resource) (protection.Operation, error) {
	if op != model.OpProtect {
		return protection.Operation{}, nil
	}
	return protection.Operation{Main: func(ctx context.Context, hc *protection.HookContext) error {
		if err := hc.Bank.Put(ctx, hc.DataKey("first"), bytes.NewReader([]byte("1"))); err != nil {
			return err
		}
		time.Sleep(s.stall)
		err := hc.Bank.Put(context.WithoutCancel(ctx), hc.DataKey("second"), bytes.NewReader([]byte("2")))
		s.secondErr <- err
		return err
	}}, nil
}

// TestOwnerCheckRefusesLateWrites: a hook that outlives its operation's
// lease (here the lease is not renewed in time) cannot write any more, even
// ignoring its context: the write is refused with bank.ErrLeaseLost and
// nothing lands in the bank.
func TestOwnerCheckRefusesLateWrites(t *testing.T) { forEachBank(t, testOwnerCheckRefusesLateWrites) }

func testOwnerCheckRefusesLateWrites(t *testing.T, sw *swifttest.Swift) {
	plug := stubborn{stall: 3 * time.Second, secondErr: make(chan error, 1)}
	h := newHarness(t, options{
		swift:   sw,
		engine:  engine.Config{LeaseTTL: time.Second, LeaseRenew: time.Hour},
		plugins: protection.Registry{"karbor-noop-protection-plugin": func(*conf.File) (protection.Plugin, error) { return plug, nil }},
	})
	v := res(volumeType, 1)
	cp := h.protect(t, h.plan(t, []model.Resource{v}, nil))
	select {
	case err := <-plug.secondErr:
		if !errors.Is(err, bank.ErrLeaseLost) {
			t.Fatalf("late write: %v, want ErrLeaseLost", err)
		}
	default:
		t.Fatalf("the hook never tried its late write: %s %v", cp.Status, cp.ResourcesReason)
	}
	b := h.provider(t, noopProvider).Bank
	prefix := checkpoint.DataPrefix(cp.ID) + "resource-data/" + v.ID + "/"
	if _, err := bank.GetBytes(context.Background(), b, prefix+"first"); err != nil {
		t.Errorf("the write under a live lease is missing: %v", err)
	}
	if _, err := bank.GetBytes(context.Background(), b, prefix+"second"); !errors.Is(err, bank.ErrNotFound) {
		t.Errorf("the late write landed (err %v)", err)
	}
	if cp.Status != model.CheckpointError || !strings.Contains(cp.ResourcesReason[v.StatusKey()], "lease") {
		t.Errorf("checkpoint %s %v", cp.Status, cp.ResourcesReason)
	}
}
