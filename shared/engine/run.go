package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/shared/provider"
)

func jsonTask(t Task) ([]byte, error) { return json.Marshal(t) }

// resourceDone is the per-resource status an operation records when a
// resource's last hook completes ("" for restore, whose plugins report
// statuses under the new resources' ids).
func resourceDone(t model.OperationType) string {
	switch t {
	case model.OpProtect, model.OpVerify, model.OpCopy:
		return model.ResourceAvailable
	case model.OpDelete:
		return model.ResourceDeleted
	}
	return ""
}

// errOperationGone: the operation's keys expired or never existed.
var errOperationGone = errors.New("operation unknown or expired")

// operation returns the description of an operation, from the cache or Redis.
func (e *Engine) operation(ctx context.Context, id string) (*Operation, error) {
	e.mu.Lock()
	op, ok := e.cache[id]
	e.mu.Unlock()
	if ok {
		return op, nil
	}
	var data []byte
	err := e.retry(ctx, func() error {
		var err error
		data, err = e.rdb.HGet(ctx, e.keys(id).op, "meta").Bytes()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w: %s", errOperationGone, id)
	}
	if err != nil {
		return nil, err
	}
	op = &Operation{}
	if err := json.Unmarshal(data, op); err != nil {
		return nil, fmt.Errorf("operation %s: %w", id, err)
	}
	e.remember(op)
	return op, nil
}

// cacheSize bounds the operation cache; it is cleared when full.
const cacheSize = 1024

func (e *Engine) remember(op *Operation) {
	e.mu.Lock()
	if len(e.cache) >= cacheSize {
		clear(e.cache)
	}
	e.cache[op.ID] = op
	e.mu.Unlock()
}

// RunTask runs one task: the hook function's whole job. payload is a Task.
// It returns an error only when the task's outcome could not be recorded; a
// failing hook is recorded (the operation fails) and RunTask returns nil.
func (e *Engine) RunTask(ctx context.Context, payload []byte) error {
	if e.Beat != nil {
		e.Beat(ctx)
	}
	var t Task
	if err := json.Unmarshal(payload, &t); err != nil || t.Op == "" || t.Index < 0 {
		return fmt.Errorf("%w: task payload %.200q: %v", ErrInvalid, payload, err)
	}
	op, err := e.operation(ctx, t.Op)
	if errors.Is(err, errOperationGone) {
		e.log.WarnContext(ctx, "task of an unknown operation dropped", "op", t.Op, "task", t.Index)
		return nil
	}
	if err != nil {
		return err
	}
	log := e.log.With("op", op.ID, "type", op.Type, "task", t.Index, "hook", t.Hook().String(), "resource", t.Resource.StatusKey())

	p, fn, err := e.hookFunc(op, t)
	if err != nil {
		return e.afterFailure(ctx, op, t, err, 0, 0)
	}
	var prog progress
	if fn != nil {
		token := uuid.NewString()
		code, renew, err := e.begin(ctx, t, token)
		if err != nil {
			return err
		}
		switch code {
		case -1:
			log.WarnContext(ctx, "task of an unknown operation dropped")
			return nil
		case 0:
			log.DebugContext(ctx, "task skipped: duplicate delivery or operation stopping")
			return nil
		case resFailed:
			return e.finish(ctx, op.ID)
		}
		if renew {
			e.renewLease(ctx, p, op)
		}
		start := time.Now()
		err = e.runHook(ctx, op, p, t, fn, &prog)
		log.DebugContext(ctx, "hook ran", "took", time.Since(start), "err", err)
		if err != nil {
			log.WarnContext(ctx, "hook failed", "err", err)
			done, total := prog.take()
			return e.afterFailure(ctx, op, t, err, done, total)
		}
	}
	done, total := prog.take()
	code, ready, err := e.complete(ctx, op, t, done, total)
	if err != nil {
		return err
	}
	switch code {
	case resReady:
		return e.dispatch(ctx, ready)
	case resSucceeded, resFailed:
		return e.finish(ctx, op.ID)
	}
	return nil
}

// maxReason bounds a resource's reason as stored and shown.
const maxReason = 2000

func (e *Engine) afterFailure(ctx context.Context, op *Operation, t Task, cause error, done, total int64) error {
	reason := cause.Error()
	if len(reason) > maxReason {
		reason = strings.ToValidUTF8(reason[:maxReason], "") + "..." // never half a character
	}
	code, err := e.fail(ctx, t, reason, done, total)
	if err != nil {
		return err
	}
	if code == resFailed {
		return e.finish(ctx, op.ID)
	}
	return nil
}

// hookFunc finds the plugin function for a task (nil: the plugin has none).
func (e *Engine) hookFunc(op *Operation, t Task) (*provider.Provider, protection.HookFunc, error) {
	p, err := e.Providers.Get(op.ProviderID)
	if err != nil {
		return nil, nil, err
	}
	pl, ok := p.Plugin(t.Resource.Type)
	if !ok {
		return nil, nil, fmt.Errorf("no plugin of provider %s handles %s", p.ID, t.Resource.Type)
	}
	o, err := pl.Operation(op.Type, t.Resource)
	if err != nil {
		return nil, nil, err
	}
	return p, o.Func(t.Hook()), nil
}

// runHook calls fn, retrying transient errors with backoff. While it runs,
// progress is flushed to Redis and the bank lease is renewed; a lease that
// cannot be renewed stops the hook.
func (e *Engine) runHook(ctx context.Context, op *Operation, p *provider.Provider, t Task, fn protection.HookFunc, prog *progress) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := e.watch(ctx, cancel, op, p, prog)
	defer stop()
	k := e.keys(op.ID)
	hc := &protection.HookContext{
		OperationID: op.ID, Operation: op.Type, Hook: t.Hook(), Resource: t.Resource,
		Parameters: op.Parameters.For(t.Resource), CheckpointID: op.CheckpointID, ProviderID: op.ProviderID,
		ProjectID: op.ProjectID, RestoreID: op.RestoreID, RestoreTarget: op.RestoreTarget,
		SourceCheckpointID: op.SourceCheckpointID, Credentials: protection.Credentials{Token: op.AuthToken, AuthURL: op.AuthURL},
		Bank: bank.NewOwned(p.Bank, op.ID, min(e.cfg.LeaseTTL/4, 30*time.Second)), Progress: prog, NewResources: newResources{e.rdb, k.newres},
		Status: statusReporter{e.rdb, k.rstatus, k.rreason},
		Log:    e.log.With("op", op.ID, "hook", t.Hook().String(), "resource", t.Resource.StatusKey()),
	}
	for attempt := 1; ; attempt++ {
		hc.Attempt, hc.LastAttempt = attempt, attempt >= e.cfg.HookAttempts
		err := safeCall(ctx, fn, hc)
		if err == nil {
			return nil
		}
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			return cause
		}
		if !retryable(err) || attempt >= e.cfg.HookAttempts {
			if attempt > 1 {
				return fmt.Errorf("after %d attempts: %w", attempt, err)
			}
			return err
		}
		hc.Log.WarnContext(ctx, "hook failed transiently, retrying", "attempt", attempt, "err", err)
		prog.rollback() // the next attempt reports its bytes again
		if err := sleep(ctx, backoff(e.cfg.RetryBase, e.cfg.RetryMax, attempt)); err != nil {
			return err
		}
	}
}

// safeCall turns a plugin panic into an error; the stack goes to the log,
// not into the resource's reason.
func safeCall(ctx context.Context, fn protection.HookFunc, hc *protection.HookContext) (err error) {
	defer func() {
		if r := recover(); r != nil {
			hc.Log.ErrorContext(ctx, "plugin panic", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("plugin panic: %v", r)
		}
	}()
	return fn(ctx, hc)
}

// watch flushes progress and renews the lease while a hook runs.
func (e *Engine) watch(ctx context.Context, cancel context.CancelCauseFunc, op *Operation, p *provider.Provider, prog *progress) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		flush := time.NewTicker(e.cfg.FlushEvery)
		defer flush.Stop()
		renew := time.NewTicker(e.cfg.LeaseRenew)
		defer renew.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-flush.C:
				if d, t := prog.take(); d != 0 || t != 0 {
					k := e.keys(op.ID).op
					if _, err := e.rdb.Pipelined(ctx, func(pp redis.Pipeliner) error {
						pp.HIncrBy(ctx, k, "bytes_done", d)
						pp.HIncrBy(ctx, k, "bytes_total", t)
						return nil
					}); err != nil {
						prog.give(d, t) // report it with the completion instead
					}
				}
			case <-renew.C:
				if err := p.Bank.RenewLease(ctx, op.ID, e.cfg.LeaseTTL); errors.Is(err, bank.ErrNotFound) {
					e.log.ErrorContext(ctx, "bank lease lost: stopping the hook", "op", op.ID)
					cancel(bank.ErrLeaseLost)
					return
				} else if err != nil {
					e.log.WarnContext(ctx, "bank lease renewal failed", "op", op.ID, "err", err)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (e *Engine) renewLease(ctx context.Context, p *provider.Provider, op *Operation) {
	if err := p.Bank.RenewLease(ctx, op.ID, e.cfg.LeaseTTL); err != nil {
		e.log.WarnContext(ctx, "bank lease renewal failed", "op", op.ID, "err", err)
	}
}

// progress counts a hook's bytes until they are sent to Redis (done and
// total are the deltas not sent yet), and what the current attempt reported
// in all, so that a retried attempt can take it back.
type progress struct {
	done, total               atomic.Int64
	attemptDone, attemptTotal atomic.Int64
}

func (p *progress) AddTotal(n int64) { p.total.Add(n); p.attemptTotal.Add(n) }
func (p *progress) AddDone(n int64)  { p.done.Add(n); p.attemptDone.Add(n) }

func (p *progress) take() (done, total int64) {
	return p.done.Swap(0), p.total.Swap(0)
}

// give puts back deltas that could not be sent.
func (p *progress) give(done, total int64) { p.done.Add(done); p.total.Add(total) }

// rollback takes back everything the failed attempt reported.
func (p *progress) rollback() {
	p.done.Add(-p.attemptDone.Swap(0))
	p.total.Add(-p.attemptTotal.Swap(0))
}

type newResources struct {
	rdb redis.UniversalClient
	key string
}

func (n newResources) Get(ctx context.Context, id string) (string, bool, error) {
	v, err := n.rdb.HGet(ctx, n.key, id).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	return v, err == nil, err
}

func (n newResources) Set(ctx context.Context, id, newID string) error {
	return n.rdb.HSet(ctx, n.key, id, newID).Err()
}

type statusReporter struct {
	rdb             redis.UniversalClient
	status, reasons string
}

func (s statusReporter) ReportStatus(ctx context.Context, key, status, reason string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.status, key, status)
		if reason != "" {
			p.HSet(ctx, s.reasons, key, reason)
		} else {
			p.HDel(ctx, s.reasons, key)
		}
		return nil
	})
	return err
}

// retryable: a hook's error worth another attempt: one the plugin marked
// transient, or a bank that could not be reached (after its own retries).
func retryable(err error) bool {
	return protection.IsTransient(err) || errors.Is(err, bank.ErrUnavailable)
}
