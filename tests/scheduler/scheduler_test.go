package scheduler_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/scheduler"
	"github.com/pouchdp/pouch/shared/store"
	"github.com/pouchdp/pouch/tests/apitest"
	"github.com/redis/go-redis/v9"
)

const (
	noopProvider = "b766f37c-d011-4026-8228-28730d734a3f"
	token        = "alice:demo"
	project      = "demo"
)

type obj = map[string]any

// clock is the injected time of the API and the scheduler.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// setup is Pouch with a clock at t0, a plan of the noop provider, an
// hourly crontab trigger (window 15 min) and a protect operation on it.
func setup(t *testing.T, t0 time.Time) (*apitest.Env, *clock, string, string) {
	t.Helper()
	e := apitest.New(t, apitest.Options{})
	c := &clock{now: t0}
	e.App.API.Now, e.App.Scheduler.Now = c.Now, c.Now
	do := func(method, path string, body any) *apitest.Response {
		return e.Do(t, token, method, "/v1/"+project+"/"+path, body)
	}
	plan := do("POST", "plans", obj{"plan": obj{"name": "p", "provider_id": noopProvider, "parameters": obj{},
		"resources": []obj{{"id": "00000000-0000-4000-8000-000000000001", "type": "OS::Nova::Server", "name": "vm1"}}}}).
		OK(t).Str(t, "plan", "id")
	trig := do("POST", "triggers", obj{"trigger_info": obj{"name": "hourly", "type": "time", "properties": obj{
		"format": "crontab", "pattern": "0 * * * *", "window": 900}}}).OK(t).Str(t, "trigger_info", "id")
	op := do("POST", "scheduled_operations", obj{"scheduled_operation": obj{"name": "every hour",
		"operation_type": "protect", "trigger_id": trig,
		"operation_definition": obj{"plan_id": plan, "provider_id": noopProvider}}}).OK(t).Str(t, "scheduled_operation", "id")
	return e, c, plan, op
}

func checkpoints(t *testing.T, e *apitest.Env) []any {
	t.Helper()
	return e.Do(t, token, "GET", "/v1/"+project+"/providers/"+noopProvider+"/checkpoints", nil).OK(t).List(t, "checkpoints")
}

// TestConcurrentTicks: 8 ticks at once in the minute of a firing take it
// once: one checkpoint, made by the operation engine; retried ticks, none.
func TestConcurrentTicks(t *testing.T) {
	t0 := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC) // a DST night in Europe: UTC does not care
	e, c, plan, op := setup(t, t0)
	ctx := context.Background()

	if n, err := e.App.Scheduler.Tick(ctx); err != nil || n != 0 {
		t.Fatalf("tick before the first firing: %d, %v", n, err)
	}
	c.set(t0.Add(30*time.Minute + 20*time.Second)) // 01:00:20, 20 s late
	var fired atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			n, err := e.App.Scheduler.Tick(ctx)
			if err != nil {
				t.Error(err)
			}
			fired.Add(int64(n))
		})
	}
	wg.Wait()
	if fired.Load() != 1 {
		t.Fatalf("8 ticks fired %d times, want 1", fired.Load())
	}
	for range 3 { // a retried tick, later in the same window
		if n, _ := e.App.Scheduler.Tick(ctx); n != 0 {
			t.Fatalf("a retried tick fired %d", n)
		}
	}
	e.Settle(t)
	cps := checkpoints(t, e)
	if len(cps) != 1 {
		t.Fatalf("%d checkpoints, want 1", len(cps))
	}
	cp := cps[0].(map[string]any)
	if cp["status"] != model.CheckpointAvailable || !containsAll(cp["extra_info"].(string), `"created_by":"operation-engine"`, op, `"execution_time":"2026-03-29T01:00:00Z"`) {
		t.Errorf("checkpoint %v", cp)
	}
	logs, err := e.App.Store.OperationLogs.List(ctx, store.ListOptions{Project: project})
	if err != nil || len(logs) != 1 || logs[0].ScheduledOperationID == nil || *logs[0].ScheduledOperationID != op ||
		*logs[0].PlanID != plan {
		t.Errorf("operation logs %v, %v", logs, err)
	}

	// The next hour fires again, once.
	c.set(t0.Add(90 * time.Minute))
	if n, err := e.App.Scheduler.Tick(ctx); err != nil || n != 1 {
		t.Fatalf("tick at 02:00: %d, %v", n, err)
	}
	e.Settle(t)
	if n := len(checkpoints(t, e)); n != 2 {
		t.Errorf("%d checkpoints after two firings", n)
	}
}

// TestMissedWindow: a tick later than execution time + window runs
// nothing and writes one operation log saying why; the trigger goes on.
func TestMissedWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 31, 23, 10, 0, 0, time.UTC)
	e, c, _, op := setup(t, t0)
	ctx := context.Background()
	c.set(time.Date(2026, 2, 1, 0, 20, 0, 0, time.UTC)) // 20 min after 00:00, window 15 min
	if n, err := e.App.Scheduler.Tick(ctx); err != nil || n != 1 {
		t.Fatalf("tick: %d, %v", n, err)
	}
	e.Settle(t)
	if n := len(checkpoints(t, e)); n != 0 {
		t.Errorf("%d checkpoints after a missed window", n)
	}
	logs, err := e.App.Store.OperationLogs.List(ctx, store.ListOptions{Project: project})
	if err != nil || len(logs) != 1 {
		t.Fatalf("operation logs %v, %v", logs, err)
	}
	l := logs[0]
	if l.Status != "skipped" || l.ScheduledOperationID == nil || *l.ScheduledOperationID != op || l.ErrorInfo == nil ||
		!containsAll(*l.ErrorInfo, "missed the window", "2026-02-01T00:00:00Z") {
		t.Errorf("log %+v", l)
	}
	if n, _ := e.App.Scheduler.Tick(ctx); n != 0 {
		t.Errorf("the missed firing fired again: %d", n)
	}
	c.set(time.Date(2026, 2, 1, 1, 0, 5, 0, time.UTC))
	if n, _ := e.App.Scheduler.Tick(ctx); n != 1 {
		t.Errorf("the next firing: %d", n)
	}
}

// TestDeletedAndDisabled: a deleted operation or trigger stops firing; a
// disabled tick service fires nothing.
func TestDeletedAndDisabled(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 10, 5, 0, 0, time.UTC)
	e, c, _, op := setup(t, t0)
	ctx := context.Background()
	e.App.BeatTick(ctx)
	svcs, err := e.App.API.Services.List(ctx)
	if err != nil || len(svcs) == 0 {
		t.Fatalf("services %v, %v", svcs, err)
	}
	for _, s := range svcs {
		if s.Binary == "pouch-tick" {
			e.Do(t, token, "PUT", "/v1/"+project+"/os-services/"+strconv.Itoa(s.ID), obj{"status": "disabled"}).OK(t)
		}
	}
	c.set(t0.Add(time.Hour))
	if n, _ := e.App.Scheduler.Tick(ctx); n != 0 {
		t.Errorf("a disabled tick fired %d", n)
	}
	for _, s := range svcs {
		if s.Binary == "pouch-tick" {
			e.Do(t, token, "PUT", "/v1/"+project+"/os-services/"+strconv.Itoa(s.ID), obj{"status": "enabled"}).OK(t)
		}
	}
	e.Do(t, token, "DELETE", "/v1/"+project+"/scheduled_operations/"+op, nil).OK(t)
	if n, _ := e.App.Scheduler.Tick(ctx); n != 1 {
		t.Errorf("the trigger still fires (with no operation): %d", n)
	}
	e.Settle(t)
	if n := len(checkpoints(t, e)); n != 0 {
		t.Errorf("%d checkpoints from a deleted operation", n)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestRetention: a retention_protect operation with max_backups=3 keeps the
// newest 3 of its plan's checkpoints, deleting older ones through the
// normal delete operation.
func TestRetention(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 30, 0, 0, time.UTC)
	e, c, plan, _ := setup(t, t0)
	ctx := context.Background()
	trig := e.Do(t, token, "POST", "/v1/"+project+"/triggers", obj{"trigger_info": obj{"name": "half past", "type": "time",
		"properties": obj{"format": "crontab", "pattern": "30 * * * *", "window": 900}}}).OK(t).Str(t, "trigger_info", "id")
	e.Do(t, token, "POST", "/v1/"+project+"/scheduled_operations", obj{"scheduled_operation": obj{"name": "keep 3",
		"operation_type": "retention_protect", "trigger_id": trig,
		"operation_definition": obj{"plan_id": plan, "provider_id": noopProvider, "max_backups": 3}}}).OK(t)
	var made []string
	for h := 1; h <= 5; h++ {
		c.set(t0.Add(time.Duration(h)*time.Hour + time.Second)) // hh:30:01; the hourly trigger is then long past
		if _, err := e.App.Scheduler.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		e.Settle(t)
		for _, cp := range checkpoints(t, e) {
			m := cp.(map[string]any)
			if strings.Contains(m["extra_info"].(string), trig) && !slices.Contains(made, m["id"].(string)) {
				made = append(made, m["id"].(string))
			}
		}
	}
	if len(made) != 5 {
		t.Fatalf("%d checkpoints made by the retention operation, want 5", len(made))
	}
	var kept []string
	for _, cp := range checkpoints(t, e) {
		m := cp.(map[string]any)
		if strings.Contains(m["extra_info"].(string), trig) {
			kept = append(kept, m["id"].(string))
		}
	}
	slices.Sort(kept)
	want := slices.Clone(made[2:])
	slices.Sort(want)
	if !slices.Equal(kept, want) {
		t.Errorf("kept %v, want the newest 3 %v", kept, want)
	}
	for _, id := range made[:2] {
		st := e.Do(t, token, "GET", "/v1/"+project+"/providers/"+noopProvider+"/checkpoints/"+id, nil).OK(t).Str(t, "checkpoint", "status")
		if st != model.CheckpointDeleted {
			t.Errorf("old checkpoint %s: %s, want deleted", id, st)
		}
	}
}

// TestDeadTick: a tick that dies after taking a firing, before starting its
// operations, leaves the firing recorded; a tick StaleFiring later runs it,
// once. A firing run again after its checkpoint started makes no second one.
func TestDeadTick(t *testing.T) {
	t0 := time.Date(2026, 7, 1, 0, 30, 0, 0, time.UTC)
	e, c, _, op := setup(t, t0)
	ctx := context.Background()
	so, err := e.App.Store.Scheduled.Get(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 7, 1, 1, 0, 0, 0, time.UTC)
	taken := at.Add(5 * time.Second)
	// What the dead tick did: moved the trigger on to 02:00, recorded the
	// firing as started (scheduler's keys: due-set, firings "<trigger>|<unix>").
	rdb := e.App.Redis
	member := so.TriggerID + "|" + strconv.FormatInt(at.Unix(), 10)
	if err := rdb.ZAdd(ctx, "pouch:due", redis.Z{Score: float64(at.Add(time.Hour).Unix()), Member: so.TriggerID}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ZAdd(ctx, "pouch:firings", redis.Z{Score: float64(taken.Unix()), Member: member}).Err(); err != nil {
		t.Fatal(err)
	}
	c.set(at.Add(2 * time.Minute))
	if n, err := e.App.Scheduler.Tick(ctx); err != nil || n != 0 {
		t.Fatalf("tick before the firing is stale: %d, %v", n, err)
	}
	c.set(taken.Add(scheduler.StaleFiring + time.Second))
	if n, err := e.App.Scheduler.Tick(ctx); err != nil || n != 1 {
		t.Fatalf("tick after the firing went stale: %d, %v", n, err)
	}
	e.Settle(t)
	if n := len(checkpoints(t, e)); n != 1 {
		t.Fatalf("%d checkpoints from the recovered firing, want 1 (it was taken within its window)", n)
	}
	if n, _ := e.App.Scheduler.Tick(ctx); n != 0 {
		t.Errorf("the recovered firing ran again: %d", n)
	}
	// The firing died again after starting its checkpoint: no second one.
	if err := rdb.ZAdd(ctx, "pouch:firings", redis.Z{Score: float64(taken.Unix()), Member: member}).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := e.App.Scheduler.Tick(ctx); err != nil || n != 1 {
		t.Fatalf("second recovery: %d, %v", n, err)
	}
	e.Settle(t)
	if n := len(checkpoints(t, e)); n != 1 {
		t.Errorf("%d checkpoints after running the firing twice, want 1", n)
	}
	logs, err := e.App.Store.OperationLogs.List(ctx, store.ListOptions{Project: project})
	if err != nil || len(logs) != 1 {
		t.Errorf("operation logs after running the firing twice: %d, %v; want the one protect", len(logs), err)
	}
}
