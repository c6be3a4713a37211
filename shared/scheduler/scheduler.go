package scheduler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/shared/checkpoint"
	"github.com/pouchdp/pouch/shared/engine"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/shared/retention"
	"github.com/pouchdp/pouch/shared/schedule"
	"github.com/pouchdp/pouch/shared/store"
)

// Statuses of the operation logs a firing writes beyond the engine's own.
const (
	StatusSkipped = "skipped" // the firing came later than its window
	StatusFailed  = "failed"  // the operation could not start
)

// Scheduler keeps the due-set and fires what is due.
type Scheduler struct {
	Redis    redis.UniversalClient
	Prefix   string // e.g. "pouch:"
	Store    *store.Store
	Engine   *engine.Engine
	Quotas   *store.Quotas
	Config   schedule.Config // trigger bounds (zero: Karbor's defaults)
	Log      *slog.Logger
	Now      func() time.Time
	Disabled func(ctx context.Context) (bool, error) // nil: never; an operator disabled the tick
	Parallel int                                     // firings at once (0: 16)
	// Trusts, if set, turn a scheduled operation's trust into a token
	// acting as its creator (auth.Keystone).
	Trusts interface {
		TrustToken(ctx context.Context, trustID string) (string, error)
	}
}

func (s *Scheduler) dueKey() string                 { return s.Prefix + "due" }
func (s *Scheduler) firingsKey() string             { return s.Prefix + "firings" }
func (s *Scheduler) opsKey(triggerID string) string { return s.Prefix + "trigger-ops:" + triggerID }

// Register puts a trigger's first execution time after now in the due-set
// (or takes it out if it never fires again): on create and on update.
func (s *Scheduler) Register(ctx context.Context, t *model.Trigger) error {
	sch, err := schedule.Load(t.Properties, s.Config)
	if err != nil {
		return err
	}
	next, ok := sch.Next(s.Now().UTC())
	if !ok {
		return s.Unregister(ctx, t.ID)
	}
	if err := s.Redis.ZAdd(ctx, s.dueKey(), redis.Z{Score: float64(next.Unix()), Member: t.ID}).Err(); err != nil {
		return fmt.Errorf("trigger %s: due-set: %w", t.ID, err)
	}
	return nil
}

// Unregister takes a trigger out of the due-set.
func (s *Scheduler) Unregister(ctx context.Context, triggerID string) error {
	if err := s.Redis.ZRem(ctx, s.dueKey(), triggerID).Err(); err != nil {
		return fmt.Errorf("trigger %s: due-set: %w", triggerID, err)
	}
	return nil
}

// AddOperation makes a scheduled operation run at its trigger's firings.
func (s *Scheduler) AddOperation(ctx context.Context, triggerID, opID string) error {
	return s.Redis.SAdd(ctx, s.opsKey(triggerID), opID).Err()
}

// RemoveOperation stops a scheduled operation running at its trigger's
// firings.
func (s *Scheduler) RemoveOperation(ctx context.Context, triggerID, opID string) error {
	return s.Redis.SRem(ctx, s.opsKey(triggerID), opID).Err()
}

// move is a compare-and-set on a sorted set: member ARGV[1] moves from
// score ARGV[2] to ARGV[3] ('0': out of the set) if it is still at ARGV[2].
// With a second key, the same step adds "<member>|<old score>" to it with
// score ARGV[4]. On the due-set this is the claim on a firing, recording
// the firing as started (until its operations have started, so that a tick
// that dies in between is seen); on the firings set, taking over a firing
// whose tick died.
var move = redis.NewScript(`
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not cur or tonumber(cur) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '0' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
if KEYS[2] then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1] .. '|' .. ARGV[2])
end
return 1
`)

// StaleFiring is how long a started firing may take to start its
// operations before another tick runs it again.
const StaleFiring = 5 * time.Minute

// Tick fires every trigger due now. It returns how many firings it took.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	if s.Disabled != nil {
		if off, err := s.Disabled(ctx); err != nil || off {
			return 0, err
		}
	}
	now := s.Now().UTC()
	recovered, rerr := s.recover(ctx, now)
	due, err := s.Redis.ZRangeByScoreWithScores(ctx, s.dueKey(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.Unix(), 10)}).Result()
	if err != nil {
		return recovered, errors.Join(rerr, fmt.Errorf("due-set: %w", err))
	}
	// Firings start operations (bank writes): run several at once.
	var (
		mu    sync.Mutex
		fired int
		errs  []error
		wg    sync.WaitGroup
		slots = make(chan struct{}, cmp.Or(s.Parallel, 16))
	)
	for _, z := range due {
		id, _ := z.Member.(string)
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			ok, err := s.fire(ctx, id, int64(z.Score), now)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("trigger %s: %w", id, err))
			}
			if ok {
				fired++
			}
		})
	}
	wg.Wait()
	return recovered + fired, errors.Join(append(errs, rerr)...)
}

// fire takes the firing of trigger id at execution time `at` and runs its
// operations; false if another tick took it.
func (s *Scheduler) fire(ctx context.Context, id string, at int64, now time.Time) (bool, error) {
	t, err := s.Store.Triggers.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, s.Unregister(ctx, id) // deleted: drop its leftover
	}
	if err != nil {
		return false, err
	}
	sch, err := schedule.Load(t.Properties, s.Config)
	if err != nil {
		return false, err
	}
	execAt := time.Unix(at, 0).UTC()
	next := int64(0)
	if n, ok := sch.Next(now); ok {
		next = n.Unix()
	}
	won, err := move.Run(ctx, s.Redis, []string{s.dueKey(), s.firingsKey()}, id, at, next, now.Unix()).Int()
	if err != nil || won == 0 {
		return false, err
	}
	return true, s.runFiring(ctx, t, sch, execAt, now)
}

// runFiring starts the operations of one firing, then forgets the firing.
// Running a firing again starts nothing twice: checkpoints and operation
// logs get ids derived from the operation and the execution time.
func (s *Scheduler) runFiring(ctx context.Context, t *model.Trigger, sch *schedule.Schedule, execAt, now time.Time) error {
	ops, err := s.Redis.SMembers(ctx, s.opsKey(t.ID)).Result()
	if err != nil {
		return err
	}
	late := now.Sub(execAt) > sch.Window
	s.Log.InfoContext(ctx, "trigger fired", "trigger", t.ID, "execution_time", execAt, "operations", len(ops), "late", late)
	var errs []error
	for _, opID := range ops {
		if err := s.run(ctx, t, opID, execAt, now, late, sch.Window); err != nil {
			errs = append(errs, fmt.Errorf("scheduled operation %s: %w", opID, err))
		}
	}
	if err := s.Redis.ZRem(ctx, s.firingsKey(), firingMember(t.ID, execAt)).Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func firingMember(triggerID string, execAt time.Time) string {
	return triggerID + "|" + strconv.FormatInt(execAt.Unix(), 10)
}

// recover runs again the firings whose tick died before starting their
// operations (started more than StaleFiring ago).
func (s *Scheduler) recover(ctx context.Context, now time.Time) (int, error) {
	stale, err := s.Redis.ZRangeByScoreWithScores(ctx, s.firingsKey(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.Add(-StaleFiring).Unix(), 10)}).Result()
	if err != nil {
		return 0, fmt.Errorf("firings: %w", err)
	}
	n := 0
	var errs []error
	for _, z := range stale {
		member, _ := z.Member.(string)
		won, err := move.Run(ctx, s.Redis, []string{s.firingsKey()}, member, int64(z.Score), now.Unix()).Int()
		if err != nil || won == 0 {
			errs = append(errs, err)
			continue
		}
		id, at, _ := strings.Cut(member, "|")
		sec, _ := strconv.ParseInt(at, 10, 64)
		t, err := s.Store.Triggers.Get(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			errs = append(errs, s.Redis.ZRem(ctx, s.firingsKey(), member).Err())
			continue
		}
		var sch *schedule.Schedule
		if err == nil {
			sch, err = schedule.Load(t.Properties, s.Config)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("firing %s: %w", member, err))
			continue
		}
		s.Log.WarnContext(ctx, "running a firing again: its tick died", "trigger", id, "execution_time", time.Unix(sec, 0).UTC())
		// Judged late or not from when the firing was first taken.
		if err := s.runFiring(ctx, t, sch, time.Unix(sec, 0).UTC(), time.Unix(int64(z.Score), 0).UTC()); err != nil {
			errs = append(errs, err)
		}
		n++
	}
	return n, errors.Join(errs...)
}

// run starts one scheduled operation for a firing, or logs why not.
func (s *Scheduler) run(ctx context.Context, t *model.Trigger, opID string, execAt, now time.Time, late bool, window time.Duration) error {
	so, err := s.Store.Scheduled.Get(ctx, opID)
	if errors.Is(err, store.ErrNotFound) {
		return s.RemoveOperation(ctx, t.ID, opID)
	}
	if err != nil {
		return err
	}
	if !so.Enabled {
		return nil
	}
	if late {
		return s.log(ctx, so, execAt, StatusSkipped, fmt.Sprintf("missed the window: execution time %s, window %s, tick at %s",
			execAt.Format(time.RFC3339), window, now.Format(time.RFC3339)))
	}
	plan, err := s.Store.Plans.Get(ctx, so.OperationDefinition["plan_id"])
	if err != nil {
		return s.log(ctx, so, execAt, StatusFailed, fmt.Sprintf("plan %s: %v", so.OperationDefinition["plan_id"], err))
	}
	cpID := firingID(so.ID, execAt, "checkpoint")
	if p, err := s.Engine.Providers.Get(plan.ProviderID); err == nil {
		if _, err := (&checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}).Get(ctx, cpID); err == nil {
			return nil // this firing started it already
		}
	}
	extra := map[string]any{"created_by": "operation-engine", "trigger_id": t.ID,
		"scheduled_operation_id": so.ID, "execution_time": execAt.Format(time.RFC3339)}
	scope := protection.Scope{ProjectID: so.ProjectID, UserID: so.UserID}
	if trust := so.Credential["trust_id"]; trust != "" && s.Trusts != nil {
		if scope.AuthToken, err = s.Trusts.TrustToken(ctx, trust); err != nil {
			return s.log(ctx, so, execAt, StatusFailed, err.Error())
		}
	}
	err = s.Quotas.Take(ctx, plan.ProjectID, store.QuotaCheckpoints, func() error {
		_, err := s.Engine.Protect(ctx, engine.ProtectRequest{Plan: plan, ExtraInfo: extra, Scope: scope, CheckpointID: cpID})
		return err
	})
	if err != nil {
		return s.log(ctx, so, execAt, StatusFailed, err.Error())
	}
	if so.OperationType == model.ScheduledRetentionProtect {
		return s.retain(ctx, so, plan, cpID, execAt)
	}
	return nil
}

// retain deletes, through the engine's delete operation, the available
// checkpoints of the plan that the operation's retention policy does not
// keep. The checkpoint just started counts as the newest and is never
// deleted.
func (s *Scheduler) retain(ctx context.Context, so *model.ScheduledOperation, plan *model.Plan, newest string, now time.Time) error {
	policy, err := retention.FromDefinition(so.OperationDefinition)
	if err != nil || policy.Empty() {
		return err
	}
	p, err := s.Engine.Providers.Get(plan.ProviderID)
	if err != nil {
		return err
	}
	cps, err := (&checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}).List(ctx,
		checkpoint.ListOptions{ProjectID: plan.ProjectID, PlanID: plan.ID})
	if err != nil {
		return err
	}
	items := []retention.Item{{ID: newest, Time: now}}
	for _, cp := range cps {
		if cp.ID != newest && cp.Status == model.CheckpointAvailable {
			items = append(items, retention.Item{ID: cp.ID, Time: checkpointTime(cp)})
		}
	}
	_, remove := retention.Apply(items, policy, now)
	var errs []error
	for _, it := range remove {
		if it.ID == newest {
			continue
		}
		if _, err := s.Engine.Delete(ctx, p.ID, it.ID, protection.Scope{ProjectID: so.ProjectID, UserID: so.UserID}, true); err != nil {
			errs = append(errs, fmt.Errorf("retention: delete checkpoint %s: %w", it.ID, err))
			continue
		}
		if err := s.Quotas.Reserve(ctx, plan.ProjectID, store.QuotaCheckpoints, -1); err != nil {
			s.Log.WarnContext(ctx, "quota not given back", "checkpoint", it.ID, "err", err)
		}
		s.Log.InfoContext(ctx, "retention deletes a checkpoint", "operation", so.ID, "checkpoint", it.ID)
	}
	return errors.Join(errs...)
}

// checkpointTime is when a checkpoint was taken: its firing's execution
// time if the scheduler made it, else its creation time.
func checkpointTime(cp *model.Checkpoint) time.Time {
	if v, ok := cp.ExtraInfo["execution_time"].(string); ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t
		}
	}
	return time.Unix(cp.Timestamp, 0).UTC()
}

// log writes an operation log for a firing that did not start an
// operation.
func (s *Scheduler) log(ctx context.Context, so *model.ScheduledOperation, execAt time.Time, status, why string) error {
	now := s.Now().UTC()
	planID, providerID := so.OperationDefinition["plan_id"], so.OperationDefinition["provider_id"]
	l := &model.OperationLog{ID: firingID(so.ID, execAt, "log"), ProjectID: so.ProjectID, OperationType: string(model.OpProtect),
		PlanID: &planID, ProviderID: &providerID, ScheduledOperationID: &so.ID, Status: status,
		StartedAt: &now, EndedAt: &now, ErrorInfo: &why}
	s.Log.WarnContext(ctx, "scheduled operation not run", "operation", so.ID, "status", status, "why", why)
	if err := s.Store.OperationLogs.Create(ctx, l); err != nil && !errors.Is(err, store.ErrExists) {
		return err
	}
	return nil
}

// firingNamespace derives the ids of what a firing makes (UUIDv5).
var firingNamespace = uuid.MustParse("5d3c8a0e-4a8f-4f2b-9a57-3c1f0e7b2d64")

// firingID is the id of what scheduled operation opID makes at one
// execution time: the same when the firing runs again.
func firingID(opID string, execAt time.Time, what string) string {
	return uuid.NewSHA1(firingNamespace, []byte(opID+"|"+strconv.FormatInt(execAt.Unix(), 10)+"|"+what)).String()
}
