package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/pouchdp/pouch/shared/checkpoint"
	"github.com/pouchdp/pouch/shared/graph"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
	"github.com/pouchdp/pouch/shared/provider"
	"github.com/pouchdp/pouch/shared/store"
)

// Errors the API maps to HTTP statuses (400, 404, 409, 403).
var (
	ErrInvalid   = errors.New("invalid request")
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrForbidden = errors.New("forbidden")
)

// Invoker sends a payload to a function asynchronously: in process, through
// OpenFaaS or AWS Lambda.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) error
}

// Config tunes the engine. Zero values take the defaults.
type Config struct {
	Prefix        string        // Redis key prefix ("pouch:")
	HookFunction  string        // function that runs hooks ("hook")
	HookAttempts  int           // attempts of a hook failing transiently (4)
	RedisAttempts int           // attempts of a Redis step (6)
	RetryBase     time.Duration // first backoff (250ms)
	RetryMax      time.Duration // backoff cap (10s)
	KeepFor       time.Duration // operation keys live this long after the end (24h)
	FinishLease   time.Duration // a finisher's claim; Sweep takes over after it (2m)
	LeaseTTL      time.Duration // bank lease of an operation (600s, Karbor's)
	LeaseRenew    time.Duration // renew the lease this often while hooks run (120s)
	FlushEvery    time.Duration // progress flush during a long hook (1s)
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Prefix == "" {
		c.Prefix = "pouch:"
	}
	if c.HookFunction == "" {
		c.HookFunction = "hook"
	}
	if c.HookAttempts <= 0 {
		c.HookAttempts = 4
	}
	if c.RedisAttempts <= 0 {
		c.RedisAttempts = 6
	}
	def(&c.RetryBase, 250*time.Millisecond)
	def(&c.RetryMax, 10*time.Second)
	def(&c.KeepFor, 24*time.Hour)
	def(&c.FinishLease, 2*time.Minute)
	def(&c.LeaseTTL, 600*time.Second)
	def(&c.LeaseRenew, 120*time.Second)
	def(&c.FlushEvery, time.Second)
}

// Deps are what the engine works with.
type Deps struct {
	Redis     redis.UniversalClient
	Providers *provider.Set
	Catalog   *protection.Catalog
	Store     *store.Store
	Invoker   Invoker
	Log       *slog.Logger
	Now       func() time.Time // nil: time.Now
	// Beat, if set, records that the hook function is alive (os-services);
	// it is called as each task starts and must be cheap.
	Beat func(ctx context.Context)
}

// Engine starts and advances operations. It holds no operation state of its
// own beyond a cache of immutable operation descriptions.
type Engine struct {
	Deps
	rdb redis.UniversalClient
	cfg Config
	log *slog.Logger
	now func() time.Time

	mu    sync.Mutex
	cache map[string]*Operation // operation descriptions never change
}

// New returns an engine.
func New(d Deps, cfg Config) *Engine {
	cfg.defaults()
	e := &Engine{Deps: d, rdb: d.Redis, cfg: cfg, log: d.Log, now: d.Now, cache: map[string]*Operation{}}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e
}

// Operation describes one run of the engine. It is stored once in Redis and
// never changes.
type Operation struct {
	ID           string              `json:"id"`
	Type         model.OperationType `json:"type"`
	ProviderID   string              `json:"provider_id"`
	ProjectID    string              `json:"project_id"`
	CheckpointID string              `json:"checkpoint_id"`
	PlanID       string              `json:"plan_id,omitempty"`
	RestoreID    string              `json:"restore_id,omitempty"`
	// SourceCheckpointID is the checkpoint a copy reads.
	SourceCheckpointID string `json:"source_checkpoint_id,omitempty"`
	// ScheduledOperationID is the scheduled operation that started a
	// protect, if one did.
	ScheduledOperationID string `json:"scheduled_operation_id,omitempty"`
	// Cleanup: a delete that clears the data of a checkpoint whose
	// operation died, leaving it in error.
	Cleanup bool `json:"cleanup,omitempty"`
	// RecordID is the restore's or verification's record.
	RecordID      string           `json:"record_id,omitempty"`
	RestoreTarget string           `json:"restore_target,omitempty"`
	Parameters    model.Parameters `json:"parameters,omitempty"`
	// AuthToken and AuthURL are the caller's credentials, handed to every
	// hook (protection.Credentials). They live as long as the operation's
	// Redis keys; a token expiring before the operation ends makes the
	// hooks that still need the cloud fail.
	AuthToken string    `json:"auth_token,omitempty"`
	AuthURL   string    `json:"auth_url,omitempty"`
	LogID     string    `json:"log_id"`
	StartedAt time.Time `json:"started_at"`
}

// ProtectRequest asks for a checkpoint of a plan.
type ProtectRequest struct {
	Plan      *model.Plan
	ExtraInfo map[string]any
	Scope     protection.Scope
	// CheckpointID, if set, is the new checkpoint's id (the scheduler
	// derives it from the firing, so that a firing run twice makes one
	// checkpoint); else a random one.
	CheckpointID string
}

// ValidateResources checks that provider p can run op on every resource:
// a plugin handles its type, implements the operation and (if it can tell)
// accepts the resource. Errors wrap ErrInvalid.
func (e *Engine) ValidateResources(ctx context.Context, p *provider.Provider, op model.OperationType, rs []model.Resource) error {
	for _, r := range rs {
		pl, ok := p.Plugin(r.Type)
		if !ok {
			return fmt.Errorf("%w: resource %s: no plugin of provider %q handles type %s (it handles %v)",
				ErrInvalid, r.ID, p.Name, r.Type, p.ResourceTypes())
		}
		if _, err := pl.Operation(op, r); err != nil {
			return fmt.Errorf("%w: resource %s: %v", ErrInvalid, r.StatusKey(), err)
		}
		if v, ok := pl.(protection.Validator); ok {
			if err := v.Validate(ctx, r); err != nil {
				return fmt.Errorf("%w: resource %s: %v", ErrInvalid, r.StatusKey(), err)
			}
		}
	}
	return nil
}

// Graph builds the resource graph of resources, pulling in dependencies.
func (e *Engine) Graph(ctx context.Context, s protection.Scope, resources []model.Resource) (*graph.Graph, error) {
	g, err := graph.Build(ctx, resources, func(ctx context.Context, r model.Resource) ([]model.Resource, error) {
		return e.Catalog.Dependents(ctx, s, r)
	})
	if errors.Is(err, graph.ErrCycle) {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return g, err
}

func (e *Engine) provider(id string) (*provider.Provider, error) {
	p, err := e.Providers.Get(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return p, nil
}

// Protect creates a checkpoint of plan and starts protecting it. It returns
// once the checkpoint exists in the bank (status protecting) and the first
// tasks are dispatched.
func (e *Engine) Protect(ctx context.Context, req ProtectRequest) (*model.Checkpoint, error) {
	plan := req.Plan
	p, err := e.provider(plan.ProviderID)
	if err != nil {
		return nil, err
	}
	if err := e.ValidateResources(ctx, p, model.OpProtect, plan.Resources); err != nil {
		return nil, err
	}
	g, err := e.Graph(ctx, req.Scope, plan.Resources)
	if err != nil {
		return nil, err
	}
	if err := e.ValidateResources(ctx, p, model.OpProtect, g.Resources()); err != nil {
		return nil, err
	}
	op := e.newOperation(model.OpProtect, p, plan.ProjectID, req.Scope)
	op.PlanID = plan.ID
	op.Parameters = plan.Parameters
	if req.ExtraInfo["created_by"] == "operation-engine" {
		op.ScheduledOperationID, _ = req.ExtraInfo["scheduled_operation_id"].(string)
	}
	extra := req.ExtraInfo
	if extra == nil {
		extra = map[string]any{"created_by": "manual"}
	}
	cp := &model.Checkpoint{
		ID: cmp.Or(req.CheckpointID, uuid.NewString()), Status: model.CheckpointProtecting, OwnerID: op.ID, ProjectID: plan.ProjectID,
		ProtectionPlan: model.PlanSnapshot{ID: plan.ID, Name: plan.Name, ProviderID: plan.ProviderID,
			Resources: plan.Resources, Parameters: plan.Parameters},
		ExtraInfo: extra, ResourceGraph: g.String(), OperationID: op.ID,
	}
	op.CheckpointID = cp.ID
	col := &checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}
	started := false
	defer func() {
		if !started {
			e.abandon(ctx, p, op.ID)
		}
	}()
	if err := e.acquire(ctx, p, op); err != nil {
		return nil, err
	}
	if err := col.Create(ctx, cp, op.StartedAt); err != nil {
		return nil, err
	}
	if err := e.start(ctx, op, g, model.CheckpointProtecting); err != nil {
		cp.Status = model.CheckpointError
		cp.ResourcesReason = map[string]string{"operation": err.Error()}
		if uerr := col.Update(ctx, cp); uerr != nil {
			e.log.ErrorContext(ctx, "checkpoint left protecting", "checkpoint", cp.ID, "err", uerr)
		}
		return nil, err
	}
	started = true
	return cp, nil
}

// Restore starts restoring the checkpoint of restore r, whose record exists
// already (status in_progress).
func (e *Engine) Restore(ctx context.Context, r *model.Restore, s protection.Scope, isAdmin bool) error {
	return e.readCheckpoint(ctx, readRequest{Type: model.OpRestore, ProviderID: r.ProviderID,
		CheckpointID: r.CheckpointID, ProjectID: r.ProjectID, RecordID: r.ID, Parameters: r.Parameters,
		RestoreTarget: r.RestoreTarget, Scope: s, IsAdmin: isAdmin,
		Attach: func(ctx context.Context, opID string) error {
			r.OperationID = opID
			_, err := e.Store.Restores.Update(ctx, r.ID, func(rec *model.Restore) error {
				rec.OperationID = opID
				return nil
			})
			return err
		}})
}

// Verify starts verifying the checkpoint of verification v, whose record
// exists already (status in_progress): each plugin checks its resource's
// data in the bank.
func (e *Engine) Verify(ctx context.Context, v *model.Verification, s protection.Scope, isAdmin bool) error {
	return e.readCheckpoint(ctx, readRequest{Type: model.OpVerify, ProviderID: v.ProviderID,
		CheckpointID: v.CheckpointID, ProjectID: v.ProjectID, RecordID: v.ID, Parameters: v.Parameters,
		Scope: s, IsAdmin: isAdmin,
		Attach: func(ctx context.Context, opID string) error {
			v.OperationID = opID
			_, err := e.Store.Verifications.Update(ctx, v.ID, func(rec *model.Verification) error {
				rec.OperationID = opID
				return nil
			})
			return err
		}})
}

// readRequest is an operation that reads an available checkpoint (restore,
// verify) and reports into a record of its own.
type readRequest struct {
	Type          model.OperationType
	ProviderID    string
	CheckpointID  string
	ProjectID     string
	RecordID      string
	Parameters    model.Parameters
	RestoreTarget *string
	Scope         protection.Scope
	IsAdmin       bool
	// Attach stores the operation's id in the record before any hook runs.
	Attach func(ctx context.Context, opID string) error
}

func (e *Engine) readCheckpoint(ctx context.Context, req readRequest) error {
	p, err := e.provider(req.ProviderID)
	if err != nil {
		return err
	}
	col := &checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}
	cp, err := col.Get(ctx, req.CheckpointID)
	if err != nil {
		return notFound(err)
	}
	if !req.IsAdmin && cp.ProjectID != req.Scope.ProjectID {
		return fmt.Errorf("%w: checkpoint %s belongs to another project", ErrForbidden, cp.ID)
	}
	if cp.Status != model.CheckpointAvailable {
		return fmt.Errorf("%w: checkpoint %s is %s, not available", ErrInvalid, cp.ID, cp.Status)
	}
	g, err := graph.Parse(cp.ResourceGraph)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", cp.ID, err)
	}
	if err := e.ValidateResources(ctx, p, req.Type, g.Resources()); err != nil {
		return err
	}
	op := e.newOperation(req.Type, p, req.ProjectID, req.Scope)
	op.CheckpointID, op.RecordID, op.Parameters = cp.ID, req.RecordID, req.Parameters
	if req.Type == model.OpRestore {
		op.RestoreID = req.RecordID
	}
	op.PlanID = cp.ProtectionPlan.ID
	if req.RestoreTarget != nil {
		op.RestoreTarget = *req.RestoreTarget
	}
	if err := e.guard(ctx, cp.ID, op.ID, false); err != nil {
		return err
	}
	started := false
	defer func() {
		if !started {
			e.unguard(ctx, cp.ID, op.ID, false)
			e.abandon(ctx, p, op.ID)
		}
	}()
	if err := e.acquire(ctx, p, op); err != nil {
		return err
	}
	if err := req.Attach(ctx, op.ID); err != nil {
		return err
	}
	if err := e.start(ctx, op, g, model.RestoreInProgress); err != nil {
		return err
	}
	started = true
	return nil
}

// Delete starts deleting a checkpoint: it must be available, error or
// error-deleting (a delete that failed may be tried again).
func (e *Engine) Delete(ctx context.Context, providerID, checkpointID string, s protection.Scope, isAdmin bool) (*model.Checkpoint, error) {
	return e.deleteCheckpoint(ctx, providerID, checkpointID, s, isAdmin, false)
}

// deleteCheckpoint runs the plugins' delete hooks on a checkpoint. A cleanup
// (of a checkpoint whose operation died) leaves it in error, with its data
// gone, rather than deleted.
func (e *Engine) deleteCheckpoint(ctx context.Context, providerID, checkpointID string, s protection.Scope, isAdmin, cleanup bool) (*model.Checkpoint, error) {
	p, err := e.provider(providerID)
	if err != nil {
		return nil, err
	}
	col := &checkpoint.Collection{Bank: p.Bank, ProviderID: p.ID}
	cp, err := col.Get(ctx, checkpointID)
	if err != nil {
		return nil, notFound(err)
	}
	if !isAdmin && cp.ProjectID != s.ProjectID {
		return nil, fmt.Errorf("%w: checkpoint %s belongs to another project", ErrForbidden, cp.ID)
	}
	g, err := graph.Parse(cp.ResourceGraph)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", cp.ID, err)
	}
	op := e.newOperation(model.OpDelete, p, cp.ProjectID, s)
	op.CheckpointID, op.PlanID, op.Cleanup = cp.ID, cp.ProtectionPlan.ID, cleanup
	if err := e.guard(ctx, cp.ID, op.ID, true); err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			e.unguard(ctx, checkpointID, op.ID, true)
			e.abandon(ctx, p, op.ID)
		}
	}()
	// Read again under the guard: the status seen before may be stale.
	if cp, err = col.Get(ctx, checkpointID); err != nil {
		return nil, notFound(err)
	}
	switch cp.Status {
	case model.CheckpointAvailable, model.CheckpointError, model.CheckpointErrorDeleting:
	default:
		return nil, fmt.Errorf("%w: checkpoint %s is %s; only available or error checkpoints can be deleted", ErrConflict, cp.ID, cp.Status)
	}
	if err := e.acquire(ctx, p, op); err != nil {
		return nil, err
	}
	cp.OwnerID, cp.OperationID, cp.UpdatedAt = op.ID, op.ID, e.now().UTC()
	if cleanup {
		if cp.ExtraInfo == nil {
			cp.ExtraInfo = map[string]any{}
		}
		cp.ExtraInfo[CleanupStatusKey] = CleanupRunning
	} else {
		cp.Status = model.CheckpointDeleting
		cp.Progress = nil
	}
	if err := col.Update(ctx, cp); err != nil {
		return nil, err
	}
	if err := e.start(ctx, op, g, model.CheckpointDeleting); err != nil {
		if !cleanup {
			cp.Status = model.CheckpointErrorDeleting
		}
		if uerr := col.Update(ctx, cp); uerr != nil {
			e.log.ErrorContext(ctx, "checkpoint left deleting", "checkpoint", cp.ID, "err", uerr)
		}
		return nil, err
	}
	started = true
	return cp, nil
}

// acquire registers op as active, so that the tick's reaper finds it should
// its process die from here on, then takes its bank lease (owner: the
// operation).
func (e *Engine) acquire(ctx context.Context, p *provider.Provider, op *Operation) error {
	meta, err := json.Marshal(op)
	if err != nil {
		return err
	}
	k := e.keys(op.ID)
	if _, err := e.rdb.TxPipelined(ctx, func(pp redis.Pipeliner) error {
		pp.HSet(ctx, k.op, "meta", meta, "status", statusStarting)
		pp.ZAdd(ctx, e.activeKey(), redis.Z{Score: float64(op.StartedAt.UnixMilli()), Member: op.ID})
		return nil
	}); err != nil {
		return fmt.Errorf("operation %s: register: %w", op.ID, err)
	}
	if err := p.Bank.AcquireLease(ctx, op.ID, e.cfg.LeaseTTL); err != nil {
		return fmt.Errorf("operation %s: lease: %w", op.ID, err)
	}
	return nil
}

// abandon undoes acquire for an operation that did not start.
func (e *Engine) abandon(ctx context.Context, p *provider.Provider, opID string) {
	e.release(ctx, p, opID)
	k := e.keys(opID)
	if _, err := e.rdb.TxPipelined(ctx, func(pp redis.Pipeliner) error {
		pp.ZRem(ctx, e.activeKey(), opID)
		pp.Del(ctx, k.op)
		return nil
	}); err != nil {
		e.log.WarnContext(ctx, "operation not unregistered; the reaper will end it", "op", opID, "err", err)
	}
}

// release ends an operation's bank lease; releasing a lease never taken is
// harmless, and one left behind only expires.
func (e *Engine) release(ctx context.Context, p *provider.Provider, opID string) {
	if err := p.Bank.ReleaseLease(ctx, opID); err != nil {
		e.log.WarnContext(ctx, "bank lease not released; it will expire", "op", opID, "err", err)
	}
}

func notFound(err error) error {
	if errors.Is(err, checkpoint.ErrNotFound) {
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return err
}

func (e *Engine) newOperation(t model.OperationType, p *provider.Provider, project string, s protection.Scope) *Operation {
	return &Operation{ID: uuid.NewString(), Type: t, ProviderID: p.ID, ProjectID: project,
		LogID: uuid.NewString(), StartedAt: e.now().UTC(), AuthToken: s.AuthToken, AuthURL: s.AuthURL}
}

// start writes the operation log, stores the DAG and dispatches the first
// tasks. An empty graph finishes at once.
func (e *Engine) start(ctx context.Context, op *Operation, g *graph.Graph, logStatus string) error {
	started := op.StartedAt
	log := &model.OperationLog{ID: op.LogID, ProjectID: op.ProjectID, OperationType: string(op.Type),
		CheckpointID: strPtr(op.CheckpointID), PlanID: strPtr(op.PlanID), ProviderID: strPtr(op.ProviderID),
		RestoreID: strPtr(op.RestoreID), ScheduledOperationID: strPtr(op.ScheduledOperationID), Status: logStatus,
		StartedAt: &started}
	if err := e.Store.OperationLogs.Create(ctx, log); err != nil {
		return fmt.Errorf("operation %s: log: %w", op.ID, err)
	}
	initial, err := e.store(ctx, op, g)
	if err != nil {
		return err
	}
	e.remember(op)
	e.log.InfoContext(ctx, "operation started", "op", op.ID, "type", op.Type, "checkpoint", op.CheckpointID,
		"resources", len(g.Nodes), "tasks", 4*len(g.Nodes))
	if len(g.Nodes) == 0 {
		return e.finish(ctx, op.ID)
	}
	return e.dispatch(ctx, initial)
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// dispatch sends tasks to the hook function.
func (e *Engine) dispatch(ctx context.Context, tasks []Task) error {
	var errs []error
	for _, t := range tasks {
		payload, err := jsonTask(t)
		if err == nil {
			err = e.Invoker.Invoke(ctx, e.cfg.HookFunction, payload)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("dispatch task %d of %s: %w", t.Index, t.Op, err))
		}
	}
	return errors.Join(errs...)
}

// backoff is the wait before attempt+1: exponential from base, capped, with
// jitter so that retries of many tasks spread out.
func backoff(base, limit time.Duration, attempt int) time.Duration {
	d := base << min(attempt-1, 20)
	if d > limit || d <= 0 {
		d = limit
	}
	return d/2 + rand.N(d/2+1)
}
