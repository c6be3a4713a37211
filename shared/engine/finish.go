package engine

import (
	"cmp"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/checkpoint"
	"github.com/pouchdp/pouch/shared/graph"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

var (
	//go:embed lua/guard.lua
	guardSrc    string
	guardScript = redis.NewScript(guardSrc)
)

func (e *Engine) guardKeys(cpID string) []string {
	b := e.cfg.Prefix + "cp:{" + cpID + "}"
	return []string{b + ":writer", b + ":readers"}
}

// guard admits a delete (write) or a restore (read) of a checkpoint: one
// delete and no restore, or any number of restores and no delete.
func (e *Engine) guard(ctx context.Context, cpID, opID string, write bool) error {
	return e.guardFor(ctx, cpID, opID, write, 0)
}

// guardFor is guard whose write hold, if ttl > 0, lapses by itself after
// ttl: for short holds whose holder might die before releasing.
func (e *Engine) guardFor(ctx context.Context, cpID, opID string, write bool, ttl time.Duration) error {
	mode := "r"
	if write {
		mode = "w"
	}
	n, err := guardScript.Run(ctx, e.rdb, e.guardKeys(cpID), opID, mode, ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("checkpoint %s guard: %w", cpID, err)
	}
	switch n {
	case 0:
		return fmt.Errorf("%w: checkpoint %s is being deleted", ErrConflict, cpID)
	case -1:
		return fmt.Errorf("%w: checkpoint %s is being restored", ErrConflict, cpID)
	}
	return nil
}

func (e *Engine) unguard(ctx context.Context, cpID, opID string, write bool) {
	k := e.guardKeys(cpID)
	var err error
	if write {
		err = e.rdb.Del(ctx, k[0]).Err()
	} else {
		err = e.rdb.SRem(ctx, k[1], opID).Err()
	}
	if err != nil {
		e.log.ErrorContext(ctx, "checkpoint guard not released", "checkpoint", cpID, "op", opID, "err", err)
	}
}

// state is an operation's counters and per-resource outcomes in Redis.
type state struct {
	Status   string
	Error    string
	Progress model.Progress
	Inflight int64
	Statuses map[string]string
	Reasons  map[string]string
}

func (s state) succeeded() bool {
	return s.Status == statusRunning && s.Progress.TasksDone >= s.Progress.TasksTotal
}

func (e *Engine) state(ctx context.Context, opID string) (*state, error) {
	k := e.keys(opID)
	var op, rs, rr *redis.MapStringStringCmd
	err := e.retry(ctx, func() error {
		_, err := e.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			op = p.HGetAll(ctx, k.op)
			rs = p.HGetAll(ctx, k.rstatus)
			rr = p.HGetAll(ctx, k.rreason)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	f := op.Val()
	if len(f) == 0 {
		return nil, fmt.Errorf("%w: %s", errOperationGone, opID)
	}
	n := func(name string) int64 { v, _ := strconv.ParseInt(f[name], 10, 64); return v }
	return &state{
		Status: f["status"], Error: f["error"], Inflight: n("inflight"),
		Progress: model.Progress{ResourcesDone: n("res_done"), ResourcesTotal: n("res_total"),
			TasksDone: n("tasks_done"), TasksTotal: n("tasks_total"), BytesDone: n("bytes_done"), BytesTotal: n("bytes_total")},
		Statuses: rs.Val(), Reasons: rr.Val(),
	}, nil
}

// Status is an operation's state as callers see it.
type Status struct {
	Status   string // running, failing, succeeded, failed
	Error    string
	Progress model.Progress
}

// OperationStatus reads an operation's status and progress from Redis.
func (e *Engine) OperationStatus(ctx context.Context, opID string) (*Status, error) {
	s, err := e.state(ctx, opID)
	if errors.Is(err, errOperationGone) {
		return nil, fmt.Errorf("%w: operation %s", ErrNotFound, opID)
	}
	if err != nil {
		return nil, err
	}
	return &Status{Status: s.Status, Error: s.Error, Progress: s.Progress}, nil
}

// finish gives an operation whose graph has ended its final state: the
// checkpoint (or restore) and the operation log, then releases the lease and
// lets the operation's keys expire. The caller holds the finish claim. It is
// safe to run again (Sweep does, if a finisher dies).
func (e *Engine) finish(ctx context.Context, opID string) error {
	op, err := e.operation(ctx, opID)
	if err != nil {
		return err
	}
	s, err := e.state(ctx, opID)
	if err != nil {
		return err
	}
	if s.Status == statusSucceeded || s.Status == statusFailed {
		return nil
	}
	ok := s.succeeded()
	p, err := e.Providers.Get(op.ProviderID)
	if err != nil {
		return err
	}
	col := &checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}
	var final string
	switch op.Type {
	case model.OpRestore, model.OpVerify:
		final, err = e.finishRecord(ctx, op, s, ok)
	default:
		final, err = e.finishCheckpoint(ctx, col, op, s, ok)
	}
	if err != nil {
		return fmt.Errorf("finish operation %s: %w", op.ID, err)
	}
	now := e.now().UTC()
	if _, err := e.Store.OperationLogs.Update(ctx, op.LogID, func(l *model.OperationLog) error {
		l.Status, l.EndedAt = final, &now
		if s.Error != "" {
			l.ErrorInfo = &s.Error
		}
		return nil
	}); err != nil {
		e.log.ErrorContext(ctx, "operation log not updated", "op", op.ID, "err", err)
	}
	e.release(ctx, p, op.ID)
	switch op.Type {
	case model.OpRestore, model.OpVerify:
		e.unguard(ctx, op.CheckpointID, op.ID, false)
	case model.OpCopy:
		e.unguard(ctx, op.SourceCheckpointID, op.ID, false)
	case model.OpDelete:
		e.unguard(ctx, op.CheckpointID, op.ID, true)
	}
	status := statusFailed
	if ok {
		status = statusSucceeded
	}
	k := e.keys(op.ID)
	_, err = e.rdb.TxPipelined(ctx, func(pp redis.Pipeliner) error {
		pp.HSet(ctx, k.op, "status", status, "ended_at", now.UnixMilli())
		for _, key := range k.all() {
			pp.Expire(ctx, key, e.cfg.KeepFor)
		}
		pp.ZRem(ctx, e.activeKey(), op.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish operation %s: %w", op.ID, err)
	}
	e.log.InfoContext(ctx, "operation finished", "op", op.ID, "type", op.Type, "checkpoint", op.CheckpointID,
		"status", final, "took", now.Sub(op.StartedAt), "resources", s.Progress.ResourcesDone,
		"bytes", s.Progress.BytesDone, "error", s.Error)
	return nil
}

func (e *Engine) finishCheckpoint(ctx context.Context, col *checkpoint.Collection, op *Operation, s *state, ok bool) (string, error) {
	cp, err := col.Get(ctx, op.CheckpointID)
	if errors.Is(err, checkpoint.ErrNotFound) && op.Type != model.OpDelete {
		return model.CheckpointError, nil // its process died before creating it
	}
	if err != nil {
		return "", err
	}
	statuses := s.Statuses
	if !ok {
		// Name every resource: those that never got through are skipped.
		if g, err := graph.Parse(cp.ResourceGraph); err == nil {
			for _, r := range g.Resources() {
				if _, seen := statuses[r.StatusKey()]; !seen {
					statuses[r.StatusKey()] = model.ResourceSkipped
				}
			}
		}
	}
	if op.Cleanup {
		return e.finishCleanup(ctx, col, cp, s, ok)
	}
	cp.ResourcesStatus, cp.ResourcesReason = statuses, s.Reasons
	progress := s.Progress
	cp.Progress = &progress
	cp.UpdatedAt = e.now().UTC()
	switch {
	case op.Type == model.OpProtect && ok:
		cp.Status = model.CheckpointAvailable
	case op.Type == model.OpProtect, op.Type == model.OpCopy && !ok:
		cp.Status = model.CheckpointError
	case op.Type == model.OpCopy:
		cp.Status = model.CheckpointAvailable
		if cp.ExtraInfo == nil {
			cp.ExtraInfo = map[string]any{}
		}
		cp.ExtraInfo["copy_status"] = CopyStatusFinished
	case op.Type == model.OpDelete && ok:
		cp.Status = model.CheckpointDeleted
		// Plugins delete their data; whatever one left behind goes too.
		if err := bank.DeletePrefix(ctx, col.Bank, checkpoint.DataPrefix(cp.ID)+"resource-data/"); err != nil {
			return "", err
		}
		if err := col.RemoveIndices(ctx, cp); err != nil {
			return "", err
		}
	default:
		cp.Status = model.CheckpointErrorDeleting
	}
	if err := col.Update(ctx, cp); err != nil {
		return "", err
	}
	return cp.Status, nil
}

// Cleanup of a checkpoint whose operation died: extra_info[CleanupStatusKey].
const (
	CleanupStatusKey = "cleanup_status"
	CleanupRunning   = "cleaning"
	CleanupDone      = "cleaned"
	CleanupFailed    = "cleanup_failed"
)

// finishCleanup ends a cleanup: the checkpoint stays in error, with the
// reasons of its failure; its data is gone if the plugins' delete hooks
// succeeded.
func (e *Engine) finishCleanup(ctx context.Context, col *checkpoint.Collection, cp *model.Checkpoint, s *state, ok bool) (string, error) {
	cp.Status, cp.UpdatedAt = model.CheckpointError, e.now().UTC()
	if cp.ExtraInfo == nil {
		cp.ExtraInfo = map[string]any{}
	}
	cp.ExtraInfo[CleanupStatusKey] = CleanupFailed
	if ok {
		if err := bank.DeletePrefix(ctx, col.Bank, checkpoint.DataPrefix(cp.ID)+"resource-data/"); err != nil {
			return "", err
		}
		cp.ExtraInfo[CleanupStatusKey] = CleanupDone
	} else {
		if cp.ResourcesReason == nil {
			cp.ResourcesReason = map[string]string{}
		}
		cp.ResourcesReason["cleanup"] = s.Error
	}
	if err := col.Update(ctx, cp); err != nil {
		return "", err
	}
	return cp.Status, nil
}

// finishRecord ends the record of a restore or a verification.
func (e *Engine) finishRecord(ctx context.Context, op *Operation, s *state, ok bool) (string, error) {
	final := model.RestoreFail
	if ok {
		final = model.RestoreSuccess
	}
	progress := s.Progress
	now := e.now().UTC()
	var err error
	if op.Type == model.OpVerify {
		_, err = e.Store.Verifications.Update(ctx, op.RecordID, func(v *model.Verification) error {
			v.Status, v.ResourcesStatus, v.ResourcesReason, v.UpdatedAt = final, s.Statuses, s.Reasons, now
			v.Progress = &progress
			return nil
		})
		return final, err
	}
	_, err = e.Store.Restores.Update(ctx, cmp.Or(op.RecordID, op.RestoreID), func(r *model.Restore) error {
		r.Status, r.ResourcesStatus, r.ResourcesReason, r.UpdatedAt = final, s.Statuses, s.Reasons, now
		r.Progress = &progress
		return nil
	})
	return final, err
}

// Sweep is the tick's job for operations. It finishes those whose graph has
// ended but whose finisher died (its claim expired), and reaps those whose
// bank lease is gone: their process died (or stopped renewing), so they fail
// with that reason, and the plugins clean what they left. It returns how
// many it finished or reaped.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	ids, err := e.rdb.ZRange(ctx, e.activeKey(), 0, -1).Result()
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	n := 0
	var errs []error
	for _, id := range ids {
		s, err := e.state(ctx, id)
		if errors.Is(err, errOperationGone) {
			e.rdb.ZRem(ctx, e.activeKey(), id)
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ended := s.succeeded() || (s.Status == statusFailing && s.Inflight <= 0)
		done := false
		if ended {
			done, err = e.takeOver(ctx, id)
		} else {
			done, err = e.reap(ctx, id, s)
		}
		if err != nil {
			errs = append(errs, err)
		}
		if done {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// takeOver finishes an ended operation whose finisher left it.
func (e *Engine) takeOver(ctx context.Context, id string) (bool, error) {
	claimed, err := e.rdb.SetNX(ctx, e.keys(id).finish, "sweep", e.cfg.FinishLease).Result()
	if err != nil || !claimed {
		return false, err
	}
	e.log.WarnContext(ctx, "finishing an operation its finisher left", "op", id)
	if err := e.finish(ctx, id); err != nil {
		return false, err
	}
	return true, nil
}

// reap fails an operation whose bank lease is gone, then starts the cleanup
// of what it left. An operation still starting may not have taken its lease
// yet: it is left alone until it is older than acquire can take.
func (e *Engine) reap(ctx context.Context, id string, s *state) (bool, error) {
	op, err := e.operation(ctx, id)
	if err != nil {
		return false, err
	}
	if s.Status == statusStarting && e.now().Sub(op.StartedAt) < min(time.Minute, e.cfg.LeaseTTL) {
		return false, nil
	}
	p, err := e.Providers.Get(op.ProviderID)
	if err != nil {
		return false, fmt.Errorf("reap operation %s: %w", id, err)
	}
	valid, err := p.Bank.LeaseValid(ctx, id)
	if err != nil || valid {
		return false, err
	}
	k := e.keys(id)
	claimed, err := e.rdb.SetNX(ctx, k.finish, "reaper", e.cfg.FinishLease).Result()
	if err != nil || !claimed {
		return false, err
	}
	reason := fmt.Sprintf("the operation's bank lease expired (it was not renewed within %s): the process running it died or stopped", e.cfg.LeaseTTL)
	// Holding the finish claim, nobody else can end it: mark it failing.
	if _, err := e.rdb.TxPipelined(ctx, func(pp redis.Pipeliner) error {
		pp.HSet(ctx, k.op, "status", statusFailing, "error", "operation: "+reason)
		pp.HSet(ctx, k.rreason, "operation", reason)
		return nil
	}); err != nil {
		e.rdb.Del(ctx, k.finish)
		return false, fmt.Errorf("reap operation %s: %w", id, err)
	}
	e.log.WarnContext(ctx, "reaping an operation whose lease expired", "op", id, "type", op.Type,
		"checkpoint", op.CheckpointID, "started", op.StartedAt)
	if err := e.finish(ctx, id); err != nil {
		return false, fmt.Errorf("reap operation %s: %w", id, err)
	}
	e.cleanAfter(ctx, op)
	return true, nil
}

// cleanAfter asks the plugins to clean what a reaped operation left: the
// partial data of a checkpoint being made, or the rest of one being deleted.
// A restore's or verification's record just fails.
func (e *Engine) cleanAfter(ctx context.Context, op *Operation) {
	var err error
	s := protection.Scope{ProjectID: op.ProjectID, AuthToken: op.AuthToken, AuthURL: op.AuthURL}
	switch {
	case op.Type == model.OpProtect, op.Type == model.OpCopy:
		_, err = e.deleteCheckpoint(ctx, op.ProviderID, op.CheckpointID, s, true, true)
	case op.Type == model.OpDelete && !op.Cleanup:
		_, err = e.deleteCheckpoint(ctx, op.ProviderID, op.CheckpointID, s, true, false)
	}
	if errors.Is(err, ErrNotFound) {
		return
	}
	if err != nil {
		e.log.ErrorContext(ctx, "cleanup after a reaped operation not started; delete the checkpoint to clean it",
			"op", op.ID, "checkpoint", op.CheckpointID, "err", err)
	}
}
