package noop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
	"github.com/pouchdp/pouch/shared/protection"
)

// ResourceTypes are Karbor's RESOURCE_TYPES, all handled by noop.
var ResourceTypes = []string{
	"OS::Keystone::Project", "OS::Nova::Server", "OS::Cinder::Volume", "OS::Glance::Image",
	"OS::Manila::Share", "OS::Neutron::Network", "OS::Trove::Instance", "OS::Kubernetes::Pod",
}

// Event is one hook run.
type Event struct {
	OperationID string
	Operation   model.OperationType
	Hook        protection.Hook
	Resource    model.Resource
	Start, End  time.Time
	Attempt     int
	LastAttempt bool
	Err         error
}

// Recorder receives every hook run.
type Recorder interface {
	Record(ctx context.Context, e Event)
}

// Plugin is the noop plugin.
type Plugin struct{ rec Recorder }

// New returns a factory for noop plugins that report to rec (nil: log only).
func New(rec Recorder) protection.Factory {
	return func(*conf.File) (protection.Plugin, error) { return &Plugin{rec: rec}, nil }
}

// ResourceTypes implements protection.Plugin.
func (p *Plugin) ResourceTypes() []string { return ResourceTypes }

// Schemas implements protection.Plugin: Karbor's noop publishes empty schemas.
func (p *Plugin) Schemas(string) protection.Schemas { return protection.Schemas{} }

// Operation implements protection.Plugin.
func (p *Plugin) Operation(op model.OperationType, r model.Resource) (protection.Operation, error) {
	switch op {
	case model.OpProtect, model.OpRestore, model.OpDelete, model.OpVerify, model.OpCopy:
	default:
		return protection.Operation{}, fmt.Errorf("noop %s: %w", op, protection.ErrUnsupported)
	}
	return protection.Operation{PrepareBegin: p.run, PrepareFinish: p.run, Main: p.run, Complete: p.run}, nil
}

// ErrInjected is the permanent failure asked for with fail_hook.
var ErrInjected = errors.New("noop: failure injected by fail_hook")

func (p *Plugin) run(ctx context.Context, hc *protection.HookContext) error {
	e := Event{OperationID: hc.OperationID, Operation: hc.Operation, Hook: hc.Hook, Resource: hc.Resource,
		Start: time.Now(), Attempt: hc.Attempt, LastAttempt: hc.LastAttempt}
	if d := intParam(hc, "delay_ms"); d > 0 {
		select {
		case <-time.After(time.Duration(d) * time.Millisecond):
		case <-ctx.Done():
			e.Err = ctx.Err()
		}
	}
	if e.Err == nil {
		switch {
		case hc.StringParam("fail_hook", "") == hc.Hook.String():
			e.Err = fmt.Errorf("%s of %s: %w", hc.Hook, hc.Resource.StatusKey(), ErrInjected)
		case hc.Attempt <= intParam(hc, "transient_failures"):
			e.Err = protection.Transient(fmt.Errorf("noop: transient failure %d injected", hc.Attempt))
		}
	}
	e.End = time.Now()
	if p.rec != nil {
		p.rec.Record(ctx, e)
	}
	return e.Err
}

func intParam(hc *protection.HookContext, name string) int {
	n, _ := strconv.Atoi(hc.StringParam(name, "0"))
	return n
}

// Memory is a Recorder that keeps events in memory, for tests.
type Memory struct {
	mu     sync.Mutex
	events []Event
}

// Record implements Recorder.
func (m *Memory) Record(_ context.Context, e Event) {
	m.mu.Lock()
	m.events = append(m.events, e)
	m.mu.Unlock()
}

// Events returns a copy of what was recorded, in recording order.
func (m *Memory) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.events...)
}

// Reset forgets every event.
func (m *Memory) Reset() {
	m.mu.Lock()
	m.events = nil
	m.mu.Unlock()
}

// Logger is a Recorder that logs each hook at debug level.
type Logger struct{ Log *slog.Logger }

// Record implements Recorder.
func (l Logger) Record(ctx context.Context, e Event) {
	l.Log.DebugContext(ctx, "noop hook ran", "op", e.OperationID, "hook", e.Hook.String(),
		"resource", e.Resource.StatusKey(), "took", e.End.Sub(e.Start), "err", e.Err)
}
