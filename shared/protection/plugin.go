package protection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/pouchdp/pouch/bank"
	"github.com/pouchdp/pouch/shared/conf"
	"github.com/pouchdp/pouch/shared/model"
)

// Hook is one of the four phases of an operation on a resource.
type Hook int

// The hooks, in the order they run for one resource.
const (
	PrepareBegin Hook = iota
	PrepareFinish
	Main
	Complete
)

// Hooks lists every hook in order.
var Hooks = [...]Hook{PrepareBegin, PrepareFinish, Main, Complete}

func (h Hook) String() string {
	switch h {
	case PrepareBegin:
		return "on_prepare_begin"
	case PrepareFinish:
		return "on_prepare_finish"
	case Main:
		return "on_main"
	case Complete:
		return "on_complete"
	}
	return fmt.Sprintf("hook(%d)", int(h))
}

// HookFunc runs one hook of one resource.
type HookFunc func(ctx context.Context, hc *HookContext) error

// Operation is what a plugin does for one operation on one resource. A nil
// hook does nothing.
type Operation struct {
	PrepareBegin, PrepareFinish, Main, Complete HookFunc
}

// Func returns the function of hook h (nil if the plugin has none).
func (o Operation) Func(h Hook) HookFunc {
	switch h {
	case PrepareBegin:
		return o.PrepareBegin
	case PrepareFinish:
		return o.PrepareFinish
	case Main:
		return o.Main
	case Complete:
		return o.Complete
	}
	return nil
}

// Operations are a plugin's hooks by operation.
type Operations map[model.OperationType]Operation

// Get returns the hooks of op, or an error wrapping ErrUnsupported.
func (o Operations) Get(op model.OperationType) (Operation, error) {
	if ops, ok := o[op]; ok {
		return ops, nil
	}
	return Operation{}, fmt.Errorf("%w: %s", ErrUnsupported, op)
}

// Schemas are the JSON schemas a plugin publishes for one resource type, shown
// in a provider's extended_info_schema.
type Schemas struct {
	Options   map[string]any
	Restore   map[string]any
	SavedInfo map[string]any
}

// Plugin protects, restores and deletes resources of some types.
type Plugin interface {
	// ResourceTypes are the protectable types this plugin handles.
	ResourceTypes() []string
	// Schemas returns the parameter schemas for one of those types.
	Schemas(resourceType string) Schemas
	// Operation returns the hooks of op on r. It returns an error wrapping
	// ErrUnsupported for an operation the plugin does not implement.
	Operation(op model.OperationType, r model.Resource) (Operation, error)
}

// Validator is implemented by plugins that can refuse a resource before any
// operation starts (at plan creation): a path outside the allowed roots, an
// id that does not match its name. The error is shown to the user.
type Validator interface {
	Validate(ctx context.Context, r model.Resource) error
}

// CloudPlugin is implemented by plugins that act in an OpenStack cloud
// with the operation's Credentials. A restore through a provider with one,
// whose restore_target is a Keystone URL and which carries restore_auth,
// logs in there before it starts; its hooks act with that token.
type CloudPlugin interface {
	ActsInCloud()
}

// Factory builds a plugin from its provider's configuration file.
type Factory func(cfg *conf.File) (Plugin, error)

// Registry maps plugin names (as written in a provider's "plugin = ..."
// lines) to factories.
type Registry map[string]Factory

// Errors callers branch on.
var (
	ErrUnsupported = errors.New("operation not supported by plugin")
	ErrNotFound    = errors.New("resource not found")
	ErrInvalid     = errors.New("invalid resource")
)

// transientError marks an error worth retrying.
type transientError struct{ err error }

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }

// Transient marks err as transient: the engine retries the hook, with backoff,
// a bounded number of times.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return transientError{err}
}

// IsTransient reports whether err (or an error it wraps) was marked Transient.
func IsTransient(err error) bool {
	var t transientError
	return errors.As(err, &t)
}

// Progress receives a hook's progress in bytes. Calls are cheap; the engine
// batches them.
type Progress interface {
	AddTotal(bytes int64)
	AddDone(bytes int64)
}

// NewResources maps original resource ids to the ids of what a restore created
// (Karbor's new_resources), shared by every hook of one restore.
type NewResources interface {
	Get(ctx context.Context, originalID string) (string, bool, error)
	Set(ctx context.Context, originalID, newID string) error
}

// StatusReporter records per-resource status for the operation's record
// (a restore's resources_status / resources_reason), keyed "<type>#<id>".
type StatusReporter interface {
	ReportStatus(ctx context.Context, key, status, reason string) error
}

// HookContext is everything one hook call may use.
type HookContext struct {
	OperationID  string
	Operation    model.OperationType
	Hook         Hook
	Resource     model.Resource
	Parameters   map[string]any // parameters[<type>] overridden by parameters[<type>#<id>]
	CheckpointID string
	ProviderID   string
	ProjectID    string
	RestoreID    string
	// SourceCheckpointID is, for a copy, the checkpoint being copied into
	// CheckpointID.
	SourceCheckpointID string
	// RestoreTarget is the restore's restore_target, if any.
	RestoreTarget string
	// Credentials are what the hook acts with in the cloud.
	Credentials  Credentials
	Bank         bank.Bank
	Progress     Progress
	NewResources NewResources
	Status       StatusReporter
	Log          *slog.Logger
	// Attempt counts from 1; more than 1 when a transient error is retried.
	// LastAttempt says no other attempt follows, even after a transient
	// error: what the hook keeps for a retry it must clean up instead.
	Attempt     int
	LastAttempt bool
}

// DataKey is the bank key of one object of the hook's resource in its
// checkpoint: /checkpoints/<cp>/resource-data/<resource id>/<name>.
func (hc *HookContext) DataKey(name string) string {
	return ResourceDataKey(hc.CheckpointID, hc.Resource.ID, name)
}

// DataPrefix is the prefix of every object of the hook's resource in its
// checkpoint, ending in "/" so that it never matches another resource.
func (hc *HookContext) DataPrefix() string { return hc.DataKey("") + "/" }

// ResourceDataKey is /checkpoints/<cp>/resource-data/<resource id>/<name>.
func ResourceDataKey(checkpointID, resourceID, name string) string {
	k := bank.Join("checkpoints", checkpointID, "resource-data", resourceID)
	if name != "" {
		k += "/" + name
	}
	return k
}

// StringParam reads a string parameter, def when absent.
func (hc *HookContext) StringParam(name, def string) string {
	if v, ok := hc.Parameters[name]; ok {
		if s, ok := v.(string); ok {
			return s
		}
		return fmt.Sprint(v)
	}
	return def
}

// BoolParam reads a boolean parameter (a JSON boolean, or a string such as
// "true"), def when absent; anything else is an error wrapping ErrInvalid.
func (hc *HookContext) BoolParam(name string, def bool) (bool, error) {
	v, ok := hc.Parameters[name]
	if !ok {
		return def, nil
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("%w: parameter %s: %v is not a boolean", ErrInvalid, name, v)
}

// CopyData is a copy operation's main hook for plugins whose data lives in
// the bank: it copies the resource's objects from the source checkpoint to
// the new one, reporting bytes.
func CopyData(ctx context.Context, hc *HookContext) error {
	from := ResourceDataKey(hc.SourceCheckpointID, hc.Resource.ID, "") + "/"
	return bank.CopyPrefix(ctx, hc.Bank, from, hc.DataPrefix(), func(n int64) {
		hc.Progress.AddTotal(n)
		hc.Progress.AddDone(n)
	})
}
