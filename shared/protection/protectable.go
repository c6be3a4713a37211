package protection

import (
	"context"

	"github.com/pouchdp/pouch/shared/model"
)

// Scope is who asks, for protectables that answer per project or need the
// caller's credentials.
type Scope struct {
	ProjectID string
	UserID    string
	// AuthToken is the caller's Keystone token (empty under noauth, where
	// plugins act with the operator's credentials); AuthURL the Keystone
	// that issued it, when it is not the one the plugins are configured with
	// (a restore into another cloud).
	AuthToken  string
	AuthURL    string
	Parameters map[string]any
}

// Credentials are what a hook acts with in a cloud: the Keystone token of
// the operation's caller (or of a scheduled operation's trust, or of a
// restore's restore_auth), and the Keystone that issued it. An empty Token
// means the operator's credentials (clouds.yaml, OS_* variables).
type Credentials struct {
	Token   string
	AuthURL string
}

// Credentials are the credentials of s.
func (s Scope) Credentials() Credentials { return Credentials{Token: s.AuthToken, AuthURL: s.AuthURL} }

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
