package scheduler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/tests/apitest"
)

// BenchmarkTick is one tick over 10,000 triggers of which 100 are due
// (target: <= 100 ms; docs/benchmarks.md). "schedule-only": the due
// triggers have no operation, so this is the tick's own cost; "protect":
// each due trigger has a protect operation of a one-server noop plan, so
// the tick also starts 100 checkpoints.
func BenchmarkTick(b *testing.B) {
	for _, withOps := range []bool{false, true} {
		name := "schedule-only"
		if withOps {
			name = "protect"
		}
		b.Run(name, func(b *testing.B) { benchTick(b, withOps) })
	}
}

func benchTick(b *testing.B, withOps bool) {
	e := apitest.New(b, apitest.Options{})
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &clock{now: t0}
	s := e.App.Scheduler
	s.Now = c.Now
	plan := &model.Plan{ID: uuid.NewString(), Name: "p", ProviderID: noopProvider, ProjectID: project,
		Status: model.PlanSuspended, CreatedAt: t0,
		Resources: []model.Resource{{Type: "OS::Nova::Server", ID: "00000000-0000-4000-8000-000000000001", Name: "vm1"}}}
	if err := e.App.Store.Plans.Create(ctx, plan); err != nil {
		b.Fatal(err)
	}
	const triggers, due = 10000, 100
	var dueIDs []string
	for i := range triggers {
		// Hourly at minute 1+i%59 from 01:00 on: none due at 01:00:01 but the
		// first `due`, put back at 01:00 before each tick.
		t := &model.Trigger{ID: uuid.NewString(), Name: fmt.Sprint("t", i), ProjectID: project, Type: "time",
			Properties: map[string]string{"format": "crontab", "pattern": fmt.Sprintf("%d * * * *", 1+i%59),
				"start_time": "2026-01-01 01:00:00", "window": "900"}, CreatedAt: t0}
		if err := e.App.Store.Triggers.Create(ctx, t); err != nil {
			b.Fatal(err)
		}
		if err := s.Register(ctx, t); err != nil {
			b.Fatal(err)
		}
		if i < due {
			dueIDs = append(dueIDs, t.ID)
			if withOps {
				op := &model.ScheduledOperation{ID: uuid.NewString(), Name: "op", OperationType: "protect",
					TriggerID: t.ID, Enabled: true, ProjectID: project, UserID: "alice", CreatedAt: t0,
					OperationDefinition: map[string]string{"plan_id": plan.ID, "provider_id": noopProvider}}
				if err := e.App.Store.Scheduled.Create(ctx, op); err != nil {
					b.Fatal(err)
				}
				if err := s.AddOperation(ctx, t.ID, op.ID); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	at := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	c.set(at.Add(time.Second))
	rdb := e.App.Redis
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e.Settle(b)
		zs := make([]redis.Z, len(dueIDs))
		for j, id := range dueIDs {
			zs[j] = redis.Z{Score: float64(at.Unix()), Member: id}
		}
		if err := rdb.ZAdd(ctx, "pouch:due", zs...).Err(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n, err := s.Tick(ctx)
		if err != nil || n != due {
			b.Fatalf("tick fired %d, want %d: %v", n, due, err)
		}
	}
	b.StopTimer()
	e.Settle(b)
}
