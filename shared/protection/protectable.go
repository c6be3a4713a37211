package protection

import (
	"context"

	"github.com/pouchdp/pouch/shared/model"
)

// Scope is who asks, for protectables that answer per project or need the
// caller's credentials.
type Scope struct {
	ProjectID  string
	UserID     string
	AuthToken  string
	Parameters map[string]any
}

// Protectable lists and shows instances of one resource type and knows which
// resources an instance of a parent type depends on.
type Protectable interface {
	// Type is the resource type, e.g. "OS::Nova::Server".
	Type() string
	// ParentTypes are the types whose instances may depend on this type's.
	ParentTypes() []string
	// List returns the instances visible in scope.
	List(ctx context.Context, s Scope) ([]model.Resource, error)
	// Show returns one instance; an error wrapping ErrNotFound if absent.
	Show(ctx context.Context, s Scope, id string) (model.Resource, error)
	// Dependents returns the instances of this type that parent depends on.
	Dependents(ctx context.Context, s Scope, parent model.Resource) ([]model.Resource, error)
}

// ProtectableSource is implemented by plugins that also provide protectables.
type ProtectableSource interface {
	Protectables() []Protectable
}
