package model

import "time"

// Resource is one instance of a protectable type. Identity is (Type, ID, Name);
// ExtraInfo does not take part in it, as in Karbor.
type Resource struct {
	Type      string         `json:"type"`
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	ExtraInfo map[string]any `json:"extra_info,omitempty"`
}

// Key is the resource's identity as a map key.
func (r Resource) Key() ResourceKey { return ResourceKey{r.Type, r.ID, r.Name} }

// StatusKey is how Karbor names a resource in resources_status maps: "<type>#<id>".
func (r Resource) StatusKey() string { return r.Type + "#" + r.ID }

// ResourceKey identifies a resource.
type ResourceKey struct{ Type, ID, Name string }

// Parameters are plan (or restore) parameters: keyed by "<type>" or
// "<type>#<resource id>", each a flat map of option name to value.
type Parameters map[string]map[string]any

// For merges the parameters that apply to r: those of its type, overridden by
// those of "<type>#<id>".
func (p Parameters) For(r Resource) map[string]any {
	out := map[string]any{}
	for k, v := range p[r.Type] {
		out[k] = v
	}
	for k, v := range p[r.StatusKey()] {
		out[k] = v
	}
	return out
}

// Plan statuses.
const (
	PlanSuspended = "suspended"
	PlanStarted   = "started"
)

// Plan is a provider applied to a set of resources, with parameters.
type Plan struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description *string    `json:"description"`
	ProviderID  string     `json:"provider_id"`
	ProjectID   string     `json:"project_id"`
	Status      string     `json:"status"`
	Resources   []Resource `json:"resources"`
	Parameters  Parameters `json:"parameters"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Checkpoint statuses (Karbor's, spec §3.2).
const (
	CheckpointProtecting    = "protecting"
	CheckpointAvailable     = "available"
	CheckpointError         = "error"
	CheckpointDeleting      = "deleting"
	CheckpointDeleted       = "deleted"
	CheckpointErrorDeleting = "error-deleting"
	CheckpointWaitCopying   = "wait_copying"
	CheckpointCopying       = "copying"
)

// Per-resource statuses, inside a checkpoint or a restore.
const (
	ResourceProtecting = "protecting"
	ResourceAvailable  = "available"
	ResourceError      = "error"
	ResourceDeleting   = "deleting"
	ResourceDeleted    = "deleted"
	ResourceRestoring  = "restoring"
	ResourceSkipped    = "skipped"
)

// PlanSnapshot is the copy of the plan a checkpoint keeps ("protection_plan").
type PlanSnapshot struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	ProviderID string     `json:"provider_id"`
	Resources  []Resource `json:"resources"`
	Parameters Parameters `json:"parameters,omitempty"`
}

// Checkpoint is the protected state of a plan's resources at a point in time.
// It lives in the provider's bank (index.json), never in Redis.
type Checkpoint struct {
	Version         string            `json:"version"`
	ID              string            `json:"id"`
	Status          string            `json:"status"`
	OwnerID         string            `json:"owner_id"`
	ProviderID      string            `json:"provider_id"`
	ProjectID       string            `json:"project_id"`
	ProtectionPlan  PlanSnapshot      `json:"protection_plan"`
	ExtraInfo       map[string]any    `json:"extra_info,omitempty"`
	CreatedAt       string            `json:"created_at"` // YYYY-MM-DD (UTC), Karbor's quirk
	Timestamp       int64             `json:"timestamp"`  // Unix seconds
	ResourceGraph   string            `json:"resource_graph,omitempty"`
	ResourcesStatus map[string]string `json:"resources_status,omitempty"`
	ResourcesReason map[string]string `json:"resources_reason,omitempty"`
	Progress        *Progress         `json:"progress,omitempty"`
	OperationID     string            `json:"operation_id,omitempty"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// Restore statuses.
const (
	RestoreInProgress = "in_progress"
	RestoreSuccess    = "success"
	RestoreFail       = "fail"
)

// Restore is a checkpoint provisioned back into a cloud (or a directory).
type Restore struct {
	ID              string            `json:"id"`
	ProjectID       string            `json:"project_id"`
	ProviderID      string            `json:"provider_id"`
	CheckpointID    string            `json:"checkpoint_id"`
	RestoreTarget   *string           `json:"restore_target"`
	Parameters      Parameters        `json:"parameters"`
	Status          string            `json:"status"`
	ResourcesStatus map[string]string `json:"resources_status"`
	ResourcesReason map[string]string `json:"resources_reason"`
	OperationID     string            `json:"operation_id,omitempty"`
	Progress        *Progress         `json:"progress,omitempty"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// OperationType names what an operation does to a checkpoint.
type OperationType string

// Operation types. Verify and copy reuse the same engine later.
const (
	OpProtect OperationType = "protect"
	OpRestore OperationType = "restore"
	OpDelete  OperationType = "delete"
	OpVerify  OperationType = "verify"
	OpCopy    OperationType = "copy"
)

// OperationLog records one operation for the operation_logs API.
type OperationLog struct {
	ID                   string     `json:"id"`
	ProjectID            string     `json:"project_id"`
	OperationType        string     `json:"operation_type"`
	CheckpointID         *string    `json:"checkpoint_id"`
	PlanID               *string    `json:"plan_id"`
	ProviderID           *string    `json:"provider_id"`
	RestoreID            *string    `json:"restore_id"`
	ScheduledOperationID *string    `json:"scheduled_operation_id"`
	Status               string     `json:"status"`
	StartedAt            *time.Time `json:"started_at"`
	EndedAt              *time.Time `json:"ended_at"`
	ErrorInfo            *string    `json:"error_info"`
	ExtraInfo            *string    `json:"extra_info"`
}

// Progress of an operation: resources and bytes done out of total.
type Progress struct {
	ResourcesDone  int64 `json:"resources_done"`
	ResourcesTotal int64 `json:"resources_total"`
	TasksDone      int64 `json:"tasks_done"`
	TasksTotal     int64 `json:"tasks_total"`
	BytesDone      int64 `json:"bytes_done"`
	BytesTotal     int64 `json:"bytes_total"`
}

// Trigger is when to run scheduled operations (Karbor's "trigger_info").
// Properties are kept as strings, as Karbor returns them (spec §2.9).
type Trigger struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	ProjectID  string            `json:"project_id"`
	Type       string            `json:"type"`
	Properties map[string]string `json:"properties"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// Scheduled operation types.
const (
	ScheduledProtect          = "protect"
	ScheduledRetentionProtect = "retention_protect"
)

// ScheduledOperation runs an operation (protect a plan) when its trigger fires.
type ScheduledOperation struct {
	ID                  string            `json:"id"`
	Name                string            `json:"name"`
	Description         *string           `json:"description"`
	OperationType       string            `json:"operation_type"`
	TriggerID           string            `json:"trigger_id"`
	OperationDefinition map[string]string `json:"operation_definition"`
	Enabled             bool              `json:"enabled"`
	UserID              string            `json:"user_id"`
	ProjectID           string            `json:"project_id"`
	// Credential is how the operation acts as its creator (a Keystone trust
	// or application credential id); empty with noauth.
	Credential map[string]string `json:"credential,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// Verification checks that a checkpoint's data is intact; statuses are the
// restore's (in_progress, success, fail).
type Verification struct {
	ID              string            `json:"id"`
	ProjectID       string            `json:"project_id"`
	ProviderID      string            `json:"provider_id"`
	CheckpointID    string            `json:"checkpoint_id"`
	Parameters      Parameters        `json:"parameters"`
	Status          string            `json:"status"`
	ResourcesStatus map[string]string `json:"resources_status"`
	ResourcesReason map[string]string `json:"resources_reason"`
	OperationID     string            `json:"operation_id,omitempty"`
	Progress        *Progress         `json:"progress,omitempty"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}
